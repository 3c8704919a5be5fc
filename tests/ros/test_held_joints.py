"""A 12-of-29-joint G1 policy through sim_node + policy_node: the policy drives the legs, sim_node holds the rest."""

from __future__ import annotations

import dataclasses

import numpy as np
import onnx
import pytest

from physai.bringup.launcher import launch
from physai.contract import PolicyContract, attach_to_onnx
from physai.record import read_bag
from physai.robot import RobotSpec
from tests.unit.test_contract import tiny_mlp

pytestmark = pytest.mark.ros


def test_sim_node_holds_the_joints_a_leg_policy_does_not_drive(tmp_path):
    g1 = RobotSpec.load("unitree_g1")
    upper = [n for n in g1.joint_names if not any(k in n for k in ("hip", "knee", "ankle"))]
    contract = PolicyContract.for_robot(g1, held=upper)
    raised = tuple(  # elbows held bent 0.4 rad from their default: only the contract says so
        dataclasses.replace(h, position=h.position + 0.4) if "elbow" in h.name else h for h in contract.held_joints
    )
    contract = dataclasses.replace(contract, held_joints=raised)
    model, _ = tiny_mlp(contract.obs_dim, contract.action_dim)
    for init in model.graph.initializer:  # action ≡ 0: the legs at their default pose
        if init.name in ("w2", "b2"):
            init.CopyFrom(
                onnx.numpy_helper.from_array(np.zeros(onnx.numpy_helper.to_array(init).shape, np.float32), init.name)
            )
    path = tmp_path / "legs.onnx"
    onnx.save_model(model, str(path))
    attach_to_onnx(path, contract)

    args = {
        "robot": "unitree_g1",
        "policy": str(path),
        "mode": "lockstep",
        "max_sim_time_s": "2",
        "record": str(tmp_path / "bag"),
    }
    result = launch("sim", args, duration_s=120, run_dir=tmp_path / "run")
    assert result.exit_code == 0, result.failed

    states, commanded = [], set()
    for item in read_bag(tmp_path / "bag", topics=["/joint_states", "/joint_commands"]):
        if item.topic == "/joint_commands":
            commanded.add(tuple(item.message.name))
        else:
            states.append(dict(zip(item.message.name, item.message.position, strict=True)))
    assert commanded == {contract.joint_names}  # the policy names its 12 joints only
    assert len(states) > 50
    last = states[-1]
    for joint in contract.held_joints:  # held at the hold pose by sim_node's guard
        assert abs(last[joint.name] - joint.position) < 0.05, joint.name
    elbow = g1.joint_names.index("left_elbow_joint")
    assert last["left_elbow_joint"] - g1.default_pose[elbow] > 0.35
    for name, default in zip(contract.joint_names, contract.default_pos, strict=True):
        assert abs(last[name] - default) < 0.1, name
