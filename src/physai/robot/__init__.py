"""Robot descriptions: `RobotSpec.load(name_or_path)` and the registry of robots under robot_descriptions/."""

from physai.robot.spec import JointSpec, RobotSpec, RobotSpecError, available_robots, resolve_robot_yaml

__all__ = ["JointSpec", "RobotSpec", "RobotSpecError", "available_robots", "resolve_robot_yaml"]
