"""One fall rule: the balance env's termination and the summaries of recorded runs (demo, HIL) agree.

States come from the real simulator: a robot that collapses without its PD gains (a fall), and poses set just
inside and just past the rule's thresholds (near-falls and the falls right beyond them). Each run is written
to a real MCAP bag as /odom, read back by `summarize` (what `make demo` and the HIL stand print), and fed
step by step to the env's termination (`balance_reward_terms`).
"""

from __future__ import annotations

import numpy as np
import pytest
from rclpy.serialization import serialize_message

from physai.envs.balance import balance_reward_terms
from physai.envs.config import BalanceConfig, load_task_config
from physai.record.summary import summarize
from physai.record.writer import McapRecorder
from physai.robot.command import JointCommand
from physai.robot.state import FALL, RobotState
from physai.ros import convert
from physai.sim import Simulator


def _tilted_quat(angle_rad: float) -> np.ndarray:
    """(w, x, y, z) of a rotation by `angle_rad` about the world x axis."""
    return np.array([np.cos(angle_rad / 2), np.sin(angle_rad / 2), 0.0, 0.0])


def _collapse(sim: Simulator) -> list[RobotState]:
    """2 s with zero gains and torques: the biped folds up."""
    n = sim.spec.n_joints
    sim.apply(JointCommand(np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)))
    states = []
    for _ in range(100):
        sim.step(10)
        states.append(sim.state())
    return states


def _pose(sim: Simulator, start: RobotState, tilt_rad: float, height_fraction: float) -> list[RobotState]:
    """The standing pose with the base tilted and lowered (a still frame), preceded by the start pose."""
    qpos, qvel = sim.data.qpos.copy(), np.zeros(sim.model.nv)
    base = sim.layout.base_qpos
    qpos[base : base + 3] = [*start.base_pos[:2], height_fraction * float(start.base_pos[2])]
    qpos[base + 3 : base + 7] = _tilted_quat(tilt_rad)
    sim.set_state(qpos, qvel)
    return [start, sim.state()]


def _summary_fell(states: list[RobotState], tmp_path, name: str) -> bool:
    recorder = McapRecorder(tmp_path / name)
    for i, state in enumerate(states):
        stamp = convert.stamp_from_ns(i * 20_000_000)
        msg = convert.odom_msg(state, stamp, "imu_link")
        recorder.add("/odom", "nav_msgs/msg/Odometry", serialize_message(msg), i * 20_000_000)
    recorder.close()
    return summarize(tmp_path / name).fell


def _env_fell(config: BalanceConfig, states: list[RobotState], start_height_m: float, n: int) -> bool:
    zeros = np.zeros(n)
    return any(
        bool(balance_reward_terms(config, s, zeros, zeros, start_height_m, zeros, np.ones(n))[1]) for s in states
    )


CASES = [  # (tilt as a multiple of the rule's limit, height as a multiple of its fraction, fallen)
    ("near-fall: tilted", 0.95, 1.2, False),
    ("near-fall: low", 0.5, 1.04, False),
    ("past the tilt", 1.05, 1.2, True),
    ("below the height", 0.5, 0.96, True),
]


@pytest.mark.parametrize(("case", "tilt", "height", "fallen"), CASES, ids=[c[0] for c in CASES])
def test_env_and_recorded_summaries_agree_on_falls_and_near_falls(tmp_path, case, tilt, height, fallen):
    config = load_task_config(BalanceConfig, "balance")
    assert (config.max_tilt_rad, config.min_height_fraction) == (FALL.max_tilt_rad, FALL.min_height_fraction)
    sim = Simulator("testbed_biped")
    start = sim.reset(seed=0)
    states = _pose(sim, start, tilt * FALL.max_tilt_rad, height * FALL.min_height_fraction)
    start_height = float(start.base_pos[2])
    assert _env_fell(config, states, start_height, sim.spec.n_joints) is fallen
    assert _summary_fell(states, tmp_path, "pose") is fallen


def test_a_real_collapse_is_a_fall_for_the_env_and_the_summary(tmp_path):
    config = load_task_config(BalanceConfig, "balance")
    sim = Simulator("testbed_biped")
    start = sim.reset(seed=0)
    states = [start, *_collapse(sim)]
    assert _env_fell(config, states, float(start.base_pos[2]), sim.spec.n_joints)
    assert _summary_fell(states, tmp_path, "collapse")
