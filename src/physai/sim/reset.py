"""Initial states shared by Simulator and BatchSim, so the same seed gives the same start in both."""

from __future__ import annotations

import numpy as np

from physai.robot.spec import RobotSpec
from physai.sim.state import StateLayout


def initial_qpos(qpos0: np.ndarray, layout: StateLayout, spec: RobotSpec, seed: int | None, noise: float) -> np.ndarray:
    """Return qpos at reset: default pose + uniform joint noise in [−noise, noise] (rad), clipped to the joint limits.

    A floating base starts upright at (0, 0, base_height_m). `qpos0` is the model's qpos0, shape (nq,).
    The same (seed, noise) always gives the same qpos.
    """
    qpos = np.array(qpos0, dtype=np.float64)
    joints = spec.default_pose
    if noise > 0:
        rng = np.random.default_rng(seed)
        joints = np.clip(joints + rng.uniform(-noise, noise, size=joints.shape), spec.lower, spec.upper)
    qpos[layout.joint_qpos] = joints
    if layout.base_qpos >= 0:
        qpos[layout.base_qpos : layout.base_qpos + 7] = [0.0, 0.0, spec.base_height_m, 1.0, 0.0, 0.0, 0.0]
    return qpos
