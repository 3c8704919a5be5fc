"""Shared fixtures. DDS stays on this host in every test (DESIGN.md runtime rules)."""

import os

os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
os.environ.setdefault("MUJOCO_GL", "egl")
