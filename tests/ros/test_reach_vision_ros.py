"""The arm reaches what its camera sees, through the ROS nodes in lockstep: sim_node renders scene_cam with the
target cube placed at random, perception_node publishes the marker on /target_pose, policy_node reaches it.

Five placements drawn from the reach task's target box; each is run twice, with the target from vision and
from the truth (target_pos:= the cube's centre). Success: the end effector (forward kinematics of the last
/joint_states) ends within 2 cm of the cube (its surface; inside counts as 0).
"""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from physai.bringup.launcher import launch
from physai.bringup.sets import MARKER_SCENE_ARGUMENTS
from physai.envs.config import ReachConfig
from physai.paths import data_root
from physai.record import read_bag
from physai.robot import RobotSpec
from physai.robot.kinematics import load_chain
from physai.sim.marker import CUBE_BODY, CUBE_HALF_M, fix_marker_cube
from physai.sim.mjcf import build_model

pytestmark = pytest.mark.ros

ARM_POLICY = data_root() / "policies" / "arm_reach" / "policy.onnx"
EPISODES = 5
SUCCESS_M = 0.02


def cube_distance_m(spec: RobotSpec, cube_base: np.ndarray, ee_base: np.ndarray) -> float:
    """Distance from the end effector to the cube placed as sim_node places it (0 inside), m."""
    model = build_model(spec, MARKER_SCENE_ARGUMENTS["scene"])
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    base = model.body(spec.base_body).id
    rot, origin = data.xmat[base].reshape(3, 3), data.xpos[base]
    fix_marker_cube(model, data, origin + rot @ cube_base, MARKER_SCENE_ARGUMENTS["camera"])
    cube = model.body(CUBE_BODY).id
    local = data.xmat[cube].reshape(3, 3).T @ (origin + rot @ ee_base - data.xpos[cube])
    return float(np.linalg.norm(np.maximum(np.abs(local) - CUBE_HALF_M, 0.0)))


def reach(tmp_path, cube: np.ndarray, source: str) -> float:
    """Distance (m) from the cube at which the arm ends, its target from `source` (vision or truth)."""
    bag = tmp_path / f"bag_{source}"
    position = str([float(v) for v in cube])
    args = {
        **MARKER_SCENE_ARGUMENTS,
        "policy": str(ARM_POLICY),
        "mode": "lockstep",
        "max_sim_time_s": "3",
        "target_cube_pos": position,
        "record": str(bag),
        **({"perception": "aruco"} if source == "vision" else {"target_pos": position}),
    }
    result = launch("sim", args, duration_s=90, run_dir=tmp_path / f"run_{source}")
    assert result.exit_code == 0, result.failed
    spec = RobotSpec.load(MARKER_SCENE_ARGUMENTS["robot"])
    last = [item.message for item in read_bag(bag, topics=["/joint_states"])][-1]
    ee = load_chain(spec.source).position(dict(zip(last.name, last.position, strict=True)))
    return cube_distance_m(spec, cube, ee)


def test_the_arm_reaches_the_cube_it_sees_through_ros_in_lockstep(tmp_path_factory):
    box = ReachConfig()
    rng = np.random.default_rng(0)
    distances = {"vision": [], "truth": []}
    for episode in range(EPISODES):
        cube = rng.uniform(box.target_low_m, box.target_high_m).round(4)
        for source in distances:
            distances[source].append(reach(tmp_path_factory.mktemp(f"ep{episode}"), cube, source))
    print({source: np.round(d, 4).tolist() for source, d in distances.items()})
    success = {source: float(np.mean(np.array(d) <= SUCCESS_M)) for source, d in distances.items()}
    assert success["truth"] >= 0.8, distances
    assert success["vision"] >= 0.9 * success["truth"], distances
