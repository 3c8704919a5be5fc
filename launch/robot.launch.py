"""ros2 launch physai robot.launch.py robot:=testbed_biped policy:=<policy.onnx> [hardware:=<hardware.yaml>]

A thin adapter: the node set, its parameters and the argument defaults come from physai.bringup, so this file
and `physai launch robot ...` start the same nodes with the same parameters.
"""

from physai.bringup.ros_launch import generate_launch_description as _generate


def generate_launch_description():
    return _generate("robot")
