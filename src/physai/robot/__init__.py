"""The robot's own vocabulary, below every other layer (no MuJoCo, ROS or torch).

- `RobotSpec.load(name_or_path)` and the registry of robots under robot_descriptions/ (spec.py);
- `JointCommand`, the per-joint command every actuator side takes (command.py);
- `RobotState`, base tilt and the one fall rule (state.py).
"""

from physai.robot.command import JointCommand
from physai.robot.spec import JointSpec, RobotSpec, RobotSpecError, available_robots, resolve_robot_yaml
from physai.robot.state import FALL, FallRule, RobotState, tilt_rad

__all__ = [
    "FALL",
    "FallRule",
    "JointCommand",
    "JointSpec",
    "RobotSpec",
    "RobotSpecError",
    "RobotState",
    "available_robots",
    "resolve_robot_yaml",
    "tilt_rad",
]
