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


def test_walking_env_and_ros_loop_agree_on_the_scripted_path(tmp_path):
    from tests.ros.test_walk_teleop import WALK_POLICY

    report = sim2sim.run(
        WALK_POLICY, "physai/Walk-v0", episodes=2, seed=0, overrides={"episode_length_s": 14.0}, work_dir=tmp_path
    )
    print(report.table())
    assert report.env["fall_rate"] == report.ros["fall_rate"]  # the same episodes fall, or none
    assert report.env["mean_episode_seconds"] == pytest.approx(report.ros["mean_episode_seconds"])
    for metric in ("lin_vel_error_m_s", "yaw_rate_error_rad_s"):  # within 5 % (or 5 mm/s, 0.01 rad/s: near zero)
        floor = 0.005 if metric.startswith("lin") else 0.01
        assert abs(report.ros[metric] - report.env[metric]) <= max(0.05 * report.env[metric], floor), report.table()
