"""physai: one policy file from Gymnasium training to ROS 2 nodes, virtual motors and real CAN actuators.

The package mirrors the loop in DESIGN.md: `robot` (specs), `sim` (MuJoCo), `contract`, `control`,
`envs`, `rl`, `drivers`, `ros` (the only rclpy user), `bringup`, `record`, `bench`, and `cli`.
"""

from physai import gl  # noqa: F401  (picks MUJOCO_GL before anything imports mujoco)

__version__ = "0.1.0"
