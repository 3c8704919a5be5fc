"""Shared fixtures. DDS stays on this host in every test (DESIGN.md runtime rules), and so does onnxruntime."""

import os

os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
os.environ.setdefault("MUJOCO_GL", "egl")
# Before any test module imports onnxruntime (some do before physai, which sets the same): its Linux telemetry
# otherwise resolves and posts to mobile.events.data.microsoft.com (see physai/__init__.py).
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
