"""ros2 launch physai hil.launch.py policy:=<policy.onnx> [faults:=drop_pct=5] [record:=DIR]   (run it inside a network namespace: the virtual CAN bus is udp_multicast)

A thin adapter: the node set, its parameters and the argument defaults come from physai.bringup, so this file
and `physai launch hil ...` start the same nodes with the same parameters and supervision: a dead
policy_node takes nobody down (respawn:=true [respawn_delay:=2.0] restarts it; the actuator side stays in
damping until re-armed), and only an actuator node's exit ends the launch.
"""

from physai.bringup.ros_launch import generate_launch_description as _generate


def generate_launch_description():
    return _generate("hil")
