"""physai: one policy file from Gymnasium training to ROS 2 nodes, virtual motors and real CAN actuators.

The package mirrors the loop in DESIGN.md: `robot` (specs), `sim` (MuJoCo), `contract`, `control`,
`envs`, `rl`, `drivers`, `ros` (the only rclpy user), `bringup`, `record`, `bench`, and `cli`.
"""

import os

# onnxruntime >= 1.29 ships 1DS telemetry enabled in its Linux wheels: ~9 s after the first InferenceSession it
# resolves mobile.events.data.microsoft.com to upload session events, queued in ~/.cache/Microsoft with a device
# id. Only this variable, set before onnxruntime is imported, stops it;
# onnxruntime.disable_telemetry_events() does not. Every physai process (CLI, nodes, benches) imports this
# package before onnxruntime, and node processes inherit it. An explicit value (e.g. 0) is kept.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

from physai import gl  # noqa: F401  (picks MUJOCO_GL before anything imports mujoco)

__version__ = "0.1.0"
