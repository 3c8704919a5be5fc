"""The shipped arm policy reaches through ROS: policy_node builds ee_pos by forward kinematics of /joint_states
(robot side, no MuJoCo: testbed_arm/kinematics.yaml) and takes the target from its target_pos parameter."""

from __future__ import annotations

import numpy as np
import pytest

from physai.bringup.launcher import launch
from physai.paths import data_root
from physai.policy.runner import PolicyRunner
from physai.record import read_bag
from physai.robot import RobotSpec
from physai.robot.kinematics import load_chain

pytestmark = pytest.mark.ros

ARM_POLICY = data_root() / "policies" / "arm_reach" / "policy.onnx"
CHAIN = load_chain(RobotSpec.load("testbed_arm").source)


@pytest.mark.parametrize(("mode", "target"), [("lockstep", (0.4, 0.1, 0.3)), ("realtime", (0.3, -0.15, 0.2))])
def test_the_arm_reaches_its_target_through_ros(mode, target, tmp_path):
    bag = tmp_path / "bag"
    args = {
        "robot": "testbed_arm",
        "policy": str(ARM_POLICY),
        "mode": mode,
        "max_sim_time_s": "4",
        "target_pos": str(list(target)),
        "record": str(bag),
    }
    result = launch("sim", args, duration_s=60, run_dir=tmp_path / "run")
    assert result.exit_code == 0, result.failed
    states = [item.message for item in read_bag(bag, topics=["/joint_states"])]
    times = np.array([m.header.stamp.sec + m.header.stamp.nanosec * 1e-9 for m in states])
    error = np.array(
        [np.linalg.norm(CHAIN.position(dict(zip(m.name, m.position, strict=True))) - target) for m in states]
    )
    assert times[-1] >= 3.9
    assert error[0] > 0.05  # it starts away from the target
    last = error[times >= 3.0]  # the last second
    assert np.median(last) < 0.02 and np.percentile(last, 90) < 0.03, np.percentile(last, [50, 90, 100])


def test_a_policy_input_without_runtime_source_is_refused_at_start_and_an_unseen_target_holds():
    with pytest.raises(ValueError, match="observation term 'ee_pos' has no runtime source: testbed_arm has no kine"):
        PolicyRunner(str(ARM_POLICY), chain=None)
    runner = PolicyRunner(str(ARM_POLICY), chain=CHAIN)
    names, n = runner.joint_names, len(runner.joint_names)
    q = np.full(n, 0.2)
    ee = CHAIN.position(dict(zip(names, q, strict=True)))
    unseen, _ = runner.step(names, q, np.zeros(n), np.zeros(3), np.array([1.0, 0, 0, 0]), target=None)
    runner.reset()
    at_ee, _ = runner.step(names, q, np.zeros(n), np.zeros(3), np.array([1.0, 0, 0, 0]), target=ee)
    np.testing.assert_array_equal(unseen, at_ee)  # no target seen: the end effector stands in, as in training
