"""sim2sim gate: the shipped balance policy in the Gymnasium env and through the ROS 2 loop in lockstep."""

import pytest

from physai.bringup import sim2sim
from tests.ros.rosprobe import BALANCE_POLICY

pytestmark = pytest.mark.ros


def test_env_and_ros_loop_agree_over_10_episodes(tmp_path):
    report = sim2sim.run(
        BALANCE_POLICY, "physai/Balance-v0", episodes=10, seed=0, overrides={"episode_length_s": 4.0}, work_dir=tmp_path
    )
    print(report.table())
    assert report.env["fall_rate"] == report.ros["fall_rate"]
    assert report.relative_difference("mean_return") <= 0.05
    assert report.env["mean_episode_seconds"] == pytest.approx(report.ros["mean_episode_seconds"])
    assert len(report.ros_returns) == 10 and all(r > 0 for r in report.ros_returns)
