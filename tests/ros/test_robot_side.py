"""The robot side imports neither MuJoCo nor torch, and driver_node starts on a computer without the MJCF."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from physai.bringup.launcher import localhost_env
from physai.paths import robot_descriptions_dir
from tests.ros.rosprobe import BALANCE_POLICY

pytestmark = pytest.mark.ros

BUILD_DRIVER = """
import json, sys
import rclpy
import physai.ros.policy_node
from physai.ros.driver_node import DriverNode

rclpy.init(args=["--ros-args", *sys.argv[1:]])
node = DriverNode()
heavy = sorted(m for m in ("mujoco", "torch", "stable_baselines3", "gymnasium") if m in sys.modules)
print(json.dumps({"heavy": heavy, "motors": len(node.hardware.motors), "mode": node.guard.mode.value}))
node.close()
node.destroy_node()
rclpy.shutdown()
"""


def test_policy_and_driver_nodes_need_no_mujoco_torch_or_mjcf(tmp_path):
    robot = tmp_path / "testbed_biped"  # robot.yaml + hardware.yaml as a robot computer has them: no MJCF
    robot.mkdir()
    for name in ("robot.yaml", "hardware.yaml"):
        shutil.copy(robot_descriptions_dir() / "testbed_biped" / name, robot / name)
    assert not list(robot.glob("*.xml"))
    params = {
        "robot": robot / "robot.yaml",
        "hardware": robot / "hardware.yaml",
        "policy": BALANCE_POLICY,
        "bus_interface": "virtual",  # python-can's in-process bus: nothing answers, nothing leaves the process
        "bus_channel": f"robot-side-{tmp_path.name}",
    }
    args = [a for k, v in params.items() for a in ("-p", f"{k}:={v}")]
    done = subprocess.run(
        [sys.executable, "-c", BUILD_DRIVER, *args], env=localhost_env(), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    assert facts == {"heavy": [], "motors": 12, "mode": "waiting"}
