"""Named node sets as data, shared by `ros2 launch physai <set>.launch.py` and `physai launch <set>`.

    nodes = bringup("sim", {"robot": "testbed_biped", "policy": "policies/biped_balance/policy.onnx"})
    params_yaml(nodes)   # {node: {ros__parameters: {...}}} — the one params file every node gets

Every node of a set receives the same robot and policy file, so gains and rates cannot disagree.
Launch arguments are strings (as on a command line) and are converted here.
"""

from physai.bringup.sets import BRINGUPS, LAUNCH_ARGUMENTS, NodeLaunch, bringup, params_yaml

__all__ = ["BRINGUPS", "LAUNCH_ARGUMENTS", "NodeLaunch", "bringup", "params_yaml"]
