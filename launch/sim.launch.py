"""ros2 launch physai sim.launch.py robot:=testbed_biped policy:=<policy.onnx> [mode:=realtime|lockstep] [record:=DIR]

A thin adapter: the node set, its parameters and the argument defaults come from physai.bringup, so this file
and `physai launch sim ...` start the same nodes with the same parameters.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from physai.bringup import LAUNCH_ARGUMENTS, bringup

SET = "sim"


def _nodes(context, *args, **kwargs):
    given = {name: LaunchConfiguration(name).perform(context) for name in LAUNCH_ARGUMENTS[SET]}
    return [
        Node(package="physai", executable=node.executable, name=node.name, parameters=[node.parameters], output="screen")
        for node in bringup(SET, given)
    ]


def generate_launch_description():
    declared = [
        DeclareLaunchArgument(name, default_value=str(default), description=help_text)
        for name, (default, help_text) in LAUNCH_ARGUMENTS[SET].items()
    ]
    return LaunchDescription([*declared, OpaqueFunction(function=_nodes)])
