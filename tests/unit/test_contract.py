"""physai.contract: ONNX round trip, robot checks, contract validation, observation and action math."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from physai.contract import (
    METADATA_KEY,
    REACH_TERMS,
    ActionSpec,
    ContractError,
    ContractMismatch,
    NoContractError,
    ObservationBuilder,
    ObservationTerm,
    PolicyContract,
    action_to_targets,
    attach_to_onnx,
    build_observation,
    clamp_command,
    gait_clock,
    gait_phase,
    projected_gravity,
    read_from_onnx,
)
from physai.robot.spec import RobotSpec


@pytest.fixture(scope="module")
def biped() -> RobotSpec:
    return RobotSpec.load("testbed_biped")


@pytest.fixture(scope="module")
def arm() -> RobotSpec:
    return RobotSpec.load("testbed_arm")


@pytest.fixture
def contract(biped: RobotSpec) -> PolicyContract:
    return PolicyContract.for_robot(biped)


ARM_TERMS = (
    ObservationTerm("joint_pos_rel", history=3),
    ObservationTerm("joint_vel", scale=0.05),
    ObservationTerm("ee_pos"),
    ObservationTerm("target_pos", scale=(1.0, 1.0, 2.0)),
    ObservationTerm("last_action", history=2),
)


def tiny_mlp(obs_dim: int, n_act: int, hidden: int = 16, seed: int = 0) -> tuple[onnx.ModelProto, list[np.ndarray]]:
    """obs [1, obs_dim] → MatMul/Add/Tanh → MatMul/Add → action [1, n_act], float32, opset 17."""
    rng = np.random.default_rng(seed)
    weights = [
        rng.normal(scale=0.3, size=(obs_dim, hidden)).astype(np.float32),
        rng.normal(scale=0.1, size=(hidden,)).astype(np.float32),
        rng.normal(scale=0.3, size=(hidden, n_act)).astype(np.float32),
        rng.normal(scale=0.1, size=(n_act,)).astype(np.float32),
    ]
    names = ["w1", "b1", "w2", "b2"]
    nodes = [
        helper.make_node("MatMul", ["obs", "w1"], ["h0"]),
        helper.make_node("Add", ["h0", "b1"], ["h1"]),
        helper.make_node("Tanh", ["h1"], ["h2"]),
        helper.make_node("MatMul", ["h2", "w2"], ["a0"]),
        helper.make_node("Add", ["a0", "b2"], ["action"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_policy",
        [helper.make_tensor_value_info("obs", TensorProto.FLOAT, [1, obs_dim])],
        [helper.make_tensor_value_info("action", TensorProto.FLOAT, [1, n_act])],
        initializer=[numpy_helper.from_array(w, n) for w, n in zip(weights, names, strict=True)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    onnx.checker.check_model(model)
    return model, weights


def mlp_numpy(obs: np.ndarray, weights: list[np.ndarray]) -> np.ndarray:
    w1, b1, w2, b2 = weights
    return np.tanh(obs @ w1 + b1) @ w2 + b2


def session(path: object) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def fake_inputs(spec: RobotSpec, rng: np.random.Generator, batch: tuple[int, ...] = ()) -> SimpleNamespace:
    n = spec.n_joints
    quat = rng.normal(size=(*batch, 4))
    return SimpleNamespace(
        joint_pos=spec.default_pose + rng.normal(scale=0.1, size=(*batch, n)),
        joint_vel=rng.normal(size=(*batch, n)),
        gyro=rng.normal(size=(*batch, 3)),
        imu_quat=quat / np.linalg.norm(quat, axis=-1, keepdims=True),
        base_lin_vel=rng.normal(size=(*batch, 3)),
        ee_pos=rng.normal(size=(*batch, 3)),
        target_pos=rng.normal(size=(*batch, 3)),
    )


# ---- ONNX round trip ------------------------------------------------------------------------------------
@pytest.mark.parametrize("robot", ["testbed_biped", "testbed_arm"])
def test_contract_round_trips_through_a_real_onnx_file(robot, biped, arm, tmp_path):
    spec = biped if robot == "testbed_biped" else arm
    terms = None if robot == "testbed_biped" else ARM_TERMS
    contract = PolicyContract.for_robot(spec, terms, action_scale=0.5, control_dt_s=0.02)
    model, weights = tiny_mlp(contract.obs_dim, contract.action_dim)
    path = tmp_path / "policy.onnx"
    onnx.save_model(model, str(path))

    attach_to_onnx(path, contract)

    assert read_from_onnx(path) == contract  # through the onnx package
    stored = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert PolicyContract.from_onnx_metadata(stored) == contract
    assert json.loads(stored[METADATA_KEY])["robot"] == robot
    sess = session(path)
    meta = sess.get_modelmeta().custom_metadata_map  # through onnxruntime
    assert PolicyContract.from_onnx_metadata(meta) == contract
    assert read_from_onnx(sess) == contract
    assert meta["physai.robot"] == robot
    assert meta["physai.obs_dim"] == str(contract.obs_dim)
    assert meta["physai.action_dim"] == str(spec.n_joints)
    read_from_onnx(path).check(spec)

    rng = np.random.default_rng(1)
    inputs = fake_inputs(spec, rng)
    last_action = rng.normal(size=spec.n_joints)
    builder = ObservationBuilder(contract)
    obs = builder(inputs, np.array([0.5, 0.0, 0.2]), last_action)
    assert obs.shape == (contract.obs_dim,)
    assert obs.dtype == np.float32
    (action,) = sess.run(None, {"obs": obs[None]})
    assert action.shape == (1, spec.n_joints)
    np.testing.assert_allclose(action[0], mlp_numpy(obs, weights), rtol=1e-5, atol=1e-5)
    targets = action_to_targets(action[0], contract)
    assert targets.shape == (spec.n_joints,)


def test_attach_keeps_foreign_metadata_and_replaces_an_old_contract(contract, tmp_path):
    model, _ = tiny_mlp(contract.obs_dim, contract.action_dim)
    model.metadata_props.add(key="author", value="someone")
    old = dataclasses.replace(contract, action=ActionSpec(scale=0.1, clip=None))
    attach_to_onnx(model, old)
    path = tmp_path / "policy.onnx"
    attach_to_onnx(model, contract, output=path)

    keys = [p.key for p in onnx.load(str(path)).metadata_props]
    assert keys.count(METADATA_KEY) == 1
    assert "author" in keys
    assert read_from_onnx(path) == contract
    assert read_from_onnx(path) != old


@pytest.mark.parametrize(("extra_obs", "extra_act", "what"), [(1, 0, "obs_dim"), (0, -1, "action_dim")])
def test_attach_refuses_a_graph_of_the_wrong_size(contract, extra_obs, extra_act, what):
    model, _ = tiny_mlp(contract.obs_dim + extra_obs, contract.action_dim + extra_act)
    with pytest.raises(ContractMismatch, match=f"contract's {what} is") as err:
        attach_to_onnx(model, contract)
    assert err.value.what == what


def test_a_file_without_the_contract_is_refused(contract, tmp_path):
    model, _ = tiny_mlp(contract.obs_dim, contract.action_dim)
    path = tmp_path / "bare.onnx"
    onnx.save_model(model, str(path))
    expected = r"has no physai contract \(key physai\.contract\); export it with physai export"
    with pytest.raises(NoContractError, match=f"bare.onnx {expected}"):
        read_from_onnx(path)
    with pytest.raises(NoContractError, match=expected):
        read_from_onnx(session(path))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_from_onnx(tmp_path / "missing.onnx")


def test_a_file_that_is_not_onnx_is_refused(tmp_path):
    path = tmp_path / "junk.onnx"
    path.write_bytes(b"\x00\xffnot a protobuf" * 10)
    with pytest.raises(ContractError, match=r"junk\.onnx is not a readable ONNX model"):
        read_from_onnx(path)


def test_corrupted_contract_json_is_refused(contract, tmp_path):
    model, _ = tiny_mlp(contract.obs_dim, contract.action_dim)
    attach_to_onnx(model, contract)
    for prop in model.metadata_props:
        if prop.key == METADATA_KEY:
            prop.value = prop.value[: len(prop.value) // 2]
    path = tmp_path / "corrupt.onnx"
    onnx.save_model(model, str(path))
    with pytest.raises(ContractError, match=r"corrupt\.onnx: the contract JSON \(physai\.contract\) is corrupted"):
        read_from_onnx(path)


def test_hand_edited_summary_keys_are_refused(contract):
    meta = contract.to_onnx_metadata()
    meta["physai.obs_dim"] = str(contract.obs_dim + 3)
    with pytest.raises(ContractError, match=r"physai\.obs_dim is '48' but the contract"):
        PolicyContract.from_onnx_metadata(meta)


# ---- robot mismatches -------------------------------------------------------------------------------------
def _swap(values: tuple, i: int, j: int) -> tuple:
    out = list(values)
    out[i], out[j] = out[j], out[i]
    return tuple(out)


def _sneak(contract: PolicyContract, **changes: object) -> PolicyContract:
    """Bypass construction-time validation, as a hand-built object could, to exercise check() itself."""
    copy = dataclasses.replace(contract)
    for key, value in changes.items():
        object.__setattr__(copy, key, value)
    return copy


def _with_joint(c: PolicyContract, index: int, **values: float) -> dict[str, tuple]:
    return {k: tuple(v if i == index else x for i, x in enumerate(getattr(c, k))) for k, v in values.items()}


MISMATCHES = {
    "other robot": (
        lambda c, biped, arm: c.check(arm),
        ContractMismatch,
        "robot",
        r"trained for robot 'testbed_biped', not 'testbed_arm'",
    ),
    "missing joint": (
        lambda c, biped, arm: dataclasses.replace(
            c, joint_names=tuple("left_knee_x" if j == "left_knee" else j for j in c.joint_names)
        ).check(biped),
        ContractMismatch,
        "missing_joint",
        r"robot joint 'left_knee' is missing from the contract .*instead: left_knee_x",
    ),
    "reordered joints": (
        lambda c, biped, arm: dataclasses.replace(c, joint_names=_swap(c.joint_names, 2, 3)).check(biped),
        ContractMismatch,
        "joint_order",
        r"position 2: the contract has 'left_knee', the robot has 'left_hip_pitch'",
    ),
    "wrong action size": (
        lambda c, biped, arm: dataclasses.replace(
            c, joint_names=c.joint_names[:-1], default_pos=c.default_pos[:-1], kp=c.kp[:-1], kd=c.kd[:-1]
        ).check(biped),
        ContractMismatch,
        "action_size",
        r"action size 11 ≠ the robot's 12 joints",
    ),
    "default_pos out of limits": (
        lambda c, biped, arm: dataclasses.replace(c, **_with_joint(c, 3, default_pos=-0.5)).check(biped),
        ContractMismatch,
        "default_pos",
        r"default_pos of joint 'left_knee' is -0\.5, outside the robot's limits \[0, 2\]",
    ),
    "negative kp": (
        lambda c, biped, arm: dataclasses.replace(c, **_with_joint(c, 0, kp=-1.0)).check(biped),
        ContractError,
        None,
        r"field 'kp\[0\]' is -1\.0; expected a finite number ≥ 0",
    ),
    "NaN kd": (
        lambda c, biped, arm: dataclasses.replace(c, **_with_joint(c, 5, kd=math.nan)).check(biped),
        ContractError,
        None,
        r"field 'kd\[5\]' is nan; expected a finite number",
    ),
    "negative kp smuggled past validation": (
        lambda c, biped, arm: _sneak(c, **_with_joint(c, 4, kp=-2.0)).check(biped),
        ContractMismatch,
        "gains",
        r"kp of joint 'left_ankle_pitch' is -2\.0",
    ),
}


@pytest.mark.parametrize("case", list(MISMATCHES), ids=list(MISMATCHES))
def test_mismatches_are_refused_with_a_message_naming_them(case, contract, biped, arm):
    action, error, what, pattern = MISMATCHES[case]
    with pytest.raises(error, match=pattern) as err:
        action(contract, biped, arm)
    if what is not None:
        assert err.value.what == what
    assert isinstance(err.value, ValueError)


def test_matching_contracts_pass_the_check(contract, biped, arm):
    contract.check(biped)
    PolicyContract.for_robot(arm).check(arm)


# ---- contract validation ----------------------------------------------------------------------------------
INVALID_FIELDS = {
    "unknown term": ({"observation": ("base_ang_vel", "base_height")}, r"'observation\[1\]\.name' is 'base_height'"),
    "duplicate term": ({"observation": ("joint_vel", "joint_vel")}, r"'observation\[1\]\.name' is 'joint_vel'"),
    "zero control dt": ({"control_dt_s": 0.0}, r"'control_dt_s' is 0\.0; expected a finite number > 0"),
    "negative physics dt": ({"physics_dt_s": -0.002}, r"'physics_dt_s' is -0\.002"),
    "control dt not a multiple": ({"control_dt_s": 0.005}, r"'control_dt_s' is 0\.005; expected .*multiple"),
    "kd too short": ({"kd": (1.0,) * 11}, r"'kd' is .*; expected 12 values"),
    "default_pos NaN": ({"default_pos": (math.nan,) * 12}, r"'default_pos\[0\]' is nan"),
    "action scale per joint, wrong length": (
        {"action": ActionSpec(scale=(0.25,) * 3)},
        r"'action\.scale' is .*; expected one number or 12 numbers",
    ),
    "term scale wrong length": (
        {"observation": (ObservationTerm("base_ang_vel", scale=(1.0, 2.0)),)},
        r"'observation\[0\]\.scale' is \(1\.0, 2\.0\); expected one number or 3 numbers",
    ),
    "duplicate joint": ({"joint_names": ("a", "a")}, r"'joint_names\[1\]' is 'a'"),
    "joint names as a string": ({"joint_names": "left_knee"}, r"'joint_names' is 'left_knee'; expected a list"),
    "history fill": ({"history_fill": "last"}, r"'history_fill' is 'last'; expected one of current, zeros"),
    "newer version": ({"version": 3}, r"'version' is 3; expected ≤ 2 .*update physai"),
}


@pytest.mark.parametrize("case", list(INVALID_FIELDS), ids=list(INVALID_FIELDS))
def test_invalid_contracts_are_refused_naming_the_field(case, contract):
    changes, pattern = INVALID_FIELDS[case]
    with pytest.raises(ContractError, match=pattern):
        dataclasses.replace(contract, **changes)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"name": "base_height"}, r"'name' is 'base_height'; expected one of base_ang_vel, projected_gravity"),
        ({"name": "joint_vel", "history": 0}, r"'history' is 0; expected an integer ≥ 1"),
        ({"name": "joint_vel", "scale": math.inf}, r"'scale' is inf; expected a finite number"),
    ],
)
def test_invalid_observation_terms_are_refused(kwargs, pattern):
    with pytest.raises(ContractError, match=pattern):
        ObservationTerm(**kwargs)


def _edit_json(contract: PolicyContract, edit: object) -> str:
    data = contract.to_dict()
    edit(data)
    return json.dumps(data)


JSON_ERRORS = {
    "unknown term": (
        lambda d: d["observation"][1].update(name="base_height"),
        r"'observation\[1\]\.name' is 'base_height'; expected one of",
    ),
    "unknown key": (lambda d: d.update(gains=1), r"'gains' is 1; expected no such key"),
    "missing key": (lambda d: d.pop("kp"), r"'kp' is None; expected a value \(the key is required\)"),
    "unknown term key": (lambda d: d["observation"][0].update(clip=5), r"'observation\[0\]\.clip' is 5"),
    "bad action clip": (
        lambda d: d["action"].update(clip=-1),
        r"'action\.clip' is -1\.0; expected a finite number > 0",
    ),
    "newer version with new keys": (lambda d: d.update(version=3, extras={}), r"'version' is 3; .*update physai"),
    "version as string": (lambda d: d.update(version="1"), r"'version' is '1'; expected an integer"),
}


@pytest.mark.parametrize("case", list(JSON_ERRORS), ids=list(JSON_ERRORS))
def test_invalid_contract_json_is_refused_naming_the_field(case, contract):
    edit, pattern = JSON_ERRORS[case]
    meta = {METADATA_KEY: _edit_json(contract, edit)}
    with pytest.raises(ContractError, match=f"policy.onnx: policy contract field {pattern}"):
        PolicyContract.from_onnx_metadata(meta, source="policy.onnx")


def test_json_round_trip_is_exact(contract, arm):
    for c in (contract, PolicyContract.for_robot(arm, ARM_TERMS, action_scale=(0.1,) * 7, action_clip=None)):
        again = PolicyContract.from_json(c.to_json())
        assert again == c
        assert again.default_pos == c.default_pos  # floats bit-identical
        assert again.action.clip == c.action.clip


# ---- construction from a robot ----------------------------------------------------------------------------
def test_for_robot_takes_joint_order_pose_and_gains_from_the_spec(biped, arm):
    c = PolicyContract.for_robot(biped)
    assert c.robot == "testbed_biped"
    assert c.joint_names == biped.joint_names
    np.testing.assert_array_equal(c.default_pos, biped.default_pose)
    np.testing.assert_array_equal(c.kp, biped.kp)
    np.testing.assert_array_equal(c.kd, biped.kd)
    assert c.decimation == 10
    assert c.obs_dim == 3 + 3 + 3 + 12 * 3 == 45
    assert c.privileged_terms == ()
    a = PolicyContract.for_robot(arm)
    assert a.observation == REACH_TERMS
    assert a.obs_dim == 7 * 3 + 3 + 3
    priv = PolicyContract.for_robot(biped, ["base_lin_vel", "joint_pos_rel"])
    assert priv.privileged_terms == ("base_lin_vel",)
    assert priv.observation[0] == ObservationTerm("base_lin_vel")


# ---- observations --------------------------------------------------------------------------------------
S30, C30 = math.sin(math.radians(30)), math.cos(math.radians(30))
S15, C15 = math.sin(math.radians(15)), math.cos(math.radians(15))
R2 = math.sqrt(0.5)


@pytest.mark.parametrize(
    ("quat", "gravity"),
    [
        ((1, 0, 0, 0), (0, 0, -1)),  # upright
        ((2, 0, 0, 0), (0, 0, -1)),  # not normalised
        ((C15, S15, 0, 0), (0, -S30, -C30)),  # rolled +30° about x
        ((C15, 0, S15, 0), (S30, 0, -C30)),  # pitched +30° (nose down)
        ((R2, 0, R2, 0), (1, 0, 0)),  # pitched +90°
        ((R2, 0, 0, R2), (0, 0, -1)),  # yaw does not change gravity
        ((0, 1, 0, 0), (0, 0, 1)),  # upside down
    ],
)
def test_projected_gravity_hand_values(quat, gravity):
    np.testing.assert_allclose(projected_gravity(np.array(quat, dtype=float)), gravity, atol=1e-12)


def test_build_observation_hand_computed(biped):
    terms = (
        ObservationTerm("base_ang_vel", scale=0.25),
        ObservationTerm("projected_gravity"),
        ObservationTerm("velocity_command", scale=(2.0, 2.0, 0.25)),
        ObservationTerm("joint_pos_rel"),
        ObservationTerm("joint_vel", scale=0.05),
        ObservationTerm("last_action"),
    )
    c = PolicyContract.for_robot(biped, terms)
    n = 12
    inputs = SimpleNamespace(
        joint_pos=biped.default_pose + 0.1 * np.arange(n),
        joint_vel=np.arange(n, dtype=float),
        gyro=np.array([0.4, -0.8, 1.2]),
        imu_quat=np.array([C15, S15, 0.0, 0.0]),
    )
    last_action = np.linspace(-1.0, 1.0, n)
    obs = build_observation(inputs, np.array([0.5, -0.2, 1.0]), last_action, c)

    expected = np.concatenate(
        [
            [0.1, -0.2, 0.3],
            [0.0, -0.5, -C30],
            [1.0, -0.4, 0.25],
            0.1 * np.arange(n),
            0.05 * np.arange(n),
            last_action,
        ]
    )
    assert obs.dtype == np.float32
    assert obs.shape == (c.obs_dim,) == (45,)
    np.testing.assert_allclose(obs, expected, rtol=1e-6, atol=1e-6)
    slices = c.observation_slices()
    assert slices["projected_gravity"] == slice(3, 6)
    assert slices["last_action"] == slice(33, 45)


def test_batched_observation_equals_single_calls(biped):
    c = PolicyContract.for_robot(biped, [*PolicyContract.for_robot(biped).observation, "base_lin_vel"])
    rng = np.random.default_rng(7)
    batch = fake_inputs(biped, rng, (5,))
    commands = rng.normal(size=(5, 3))
    actions = rng.normal(size=(5, 12))
    obs = build_observation(batch, commands, actions, c)
    assert obs.shape == (5, c.obs_dim)
    for i in range(5):
        single = SimpleNamespace(**{k: v[i] for k, v in vars(batch).items()})
        np.testing.assert_array_equal(obs[i], build_observation(single, commands[i], actions[i], c))
    shared = build_observation(batch, commands[0], actions, c)  # one command for every world broadcasts
    np.testing.assert_array_equal(
        shared[3],
        build_observation(SimpleNamespace(**{k: v[3] for k, v in vars(batch).items()}), commands[0], actions[3], c),
    )
    grid = build_observation(fake_inputs(biped, rng, (2, 3)), np.zeros(3), np.zeros(12), c)
    assert grid.shape == (2, 3, c.obs_dim)


def _arm_inputs(arm: RobotSpec, k: float, batch: tuple[int, ...] = ()) -> SimpleNamespace:
    """Step k of a fake trajectory: every joint at default + k, so history blocks are easy to recognise."""
    n = arm.n_joints
    return SimpleNamespace(
        joint_pos=np.broadcast_to(arm.default_pose + k, (*batch, n)),
        joint_vel=np.zeros((*batch, n)),
        gyro=np.zeros(3),
        imu_quat=np.array([1.0, 0, 0, 0]),
        ee_pos=np.zeros(3),
        target_pos=np.full(3, k),
    )


def test_history_stacks_newest_first_and_fills_with_the_current_value_after_reset(arm):
    c = PolicyContract.for_robot(arm, ARM_TERMS)
    n = arm.n_joints
    assert c.obs_dim == 3 * n + n + 3 + 3 + 2 * n
    builder = ObservationBuilder(c)
    jp, la = c.observation_slices()["joint_pos_rel"], c.observation_slices()["last_action"]

    def blocks(obs: np.ndarray, where: slice, h: int) -> list[float]:
        return [float(v) for v in obs[where].reshape(h, n)[:, 0]]  # first joint of each step

    seen = []
    for k in range(4):
        obs = builder(_arm_inputs(arm, k), None, np.full(n, 10.0 + k))
        seen.append((blocks(obs, jp, 3), blocks(obs, la, 2)))
    assert seen[0] == ([0, 0, 0], [10, 10])
    assert seen[1] == ([1, 0, 0], [11, 10])
    assert seen[2] == ([2, 1, 0], [12, 11])
    assert seen[3] == ([3, 2, 1], [13, 12])
    # The pure function with the builder's buffer gives the same observation.
    history = builder.history
    assert history["joint_pos_rel"].shape == (2, n)
    pure = build_observation(_arm_inputs(arm, 4), None, np.full(n, 14.0), c, history=history)
    assert pure.tolist() == builder(_arm_inputs(arm, 4), None, np.full(n, 14.0)).tolist()
    assert blocks(pure, jp, 3) == [4, 3, 2]

    builder.reset()
    obs = builder(_arm_inputs(arm, 7), None, np.zeros(n))
    assert blocks(obs, jp, 3) == [7, 7, 7]

    zeros = ObservationBuilder(dataclasses.replace(c, history_fill="zeros"))
    obs = zeros(_arm_inputs(arm, 5), None, np.full(n, 3.0))
    assert blocks(obs, jp, 3) == [5, 0, 0]
    assert blocks(obs, la, 2) == [3, 0]


def test_builder_resets_only_the_masked_worlds(arm):
    c = PolicyContract.for_robot(arm, ARM_TERMS)
    n = arm.n_joints
    jp = c.observation_slices()["joint_pos_rel"]
    builder = ObservationBuilder(c)
    for k in range(2):
        builder(_arm_inputs(arm, k, (2,)), None, np.zeros((2, n)))
    builder.reset(np.array([False, True]))
    obs = builder(_arm_inputs(arm, 2, (2,)), None, np.zeros((2, n)))
    assert obs.shape == (2, c.obs_dim)
    assert obs[0, jp].reshape(3, n)[:, 0].tolist() == [2, 1, 0]
    assert obs[1, jp].reshape(3, n)[:, 0].tolist() == [2, 2, 2]
    with pytest.raises(ValueError, match=r"reset mask has shape \(3,\)"):
        builder.reset(np.zeros(3, bool))


def test_pure_build_needs_the_history_buffer_for_stacked_terms(arm):
    c = PolicyContract.for_robot(arm, ARM_TERMS)
    with pytest.raises(ValueError, match=r"history\['joint_pos_rel'\], shape \(\.\.\., 2, 7\), newest first"):
        build_observation(_arm_inputs(arm, 0), None, np.zeros(7), c)
    bad = {"joint_pos_rel": np.zeros((3, 7)), "last_action": np.zeros((1, 7))}
    with pytest.raises(ValueError, match=r"history\['joint_pos_rel'\] has shape \(3, 7\); expected \(\.\.\., 2, 7\)"):
        build_observation(_arm_inputs(arm, 0), None, np.zeros(7), c, history=bad)


def test_missing_or_misshapen_inputs_are_named(arm, biped):
    c = PolicyContract.for_robot(arm)
    inputs = _arm_inputs(arm, 0)
    del inputs.target_pos
    with pytest.raises(ValueError, match=r"'target_pos' needs inputs\.target_pos .*have no 'target_pos'"):
        build_observation(inputs, None, np.zeros(7), c)
    with pytest.raises(ValueError, match=r"inputs\.joint_pos has shape \(12,\); expected \(\.\.\., 7\)"):
        build_observation(
            SimpleNamespace(**{**vars(_arm_inputs(arm, 0)), "joint_pos": np.zeros(12)}), None, np.zeros(7), c
        )
    with pytest.raises(ValueError, match=r"'velocity_command' needs command .*got None"):
        build_observation(
            fake_inputs(biped, np.random.default_rng(0)), None, np.zeros(12), PolicyContract.for_robot(biped)
        )


def test_a_simulated_robot_state_fits_the_contract(contract):
    from physai.sim import Simulator

    sim = Simulator("testbed_biped")
    state = sim.reset()
    obs = build_observation(state, np.zeros(3), np.zeros(12), contract)
    s = contract.observation_slices()
    np.testing.assert_allclose(obs[s["projected_gravity"]], [0, 0, -1], atol=1e-6)
    np.testing.assert_allclose(obs[s["joint_pos_rel"]], 0.0, atol=1e-6)


# ---- actions --------------------------------------------------------------------------------------------
def test_action_to_targets_clips_scales_and_offsets(biped, contract):
    a = np.zeros(12)
    a[:3] = [2.0, -3.0, 0.5]
    q = action_to_targets(a, contract)
    expected = biped.default_pose.copy()
    expected[:3] += 0.25 * np.array([1.0, -1.0, 0.5])
    np.testing.assert_allclose(q, expected, atol=1e-15)

    per_joint = dataclasses.replace(contract, action=ActionSpec(scale=tuple(np.linspace(0.1, 1.2, 12)), clip=None))
    q = action_to_targets(np.full((4, 12), 3.0), per_joint)
    assert q.shape == (4, 12)
    np.testing.assert_allclose(q[2], biped.default_pose + 3.0 * np.linspace(0.1, 1.2, 12))
    assert np.isnan(action_to_targets(np.full(12, np.nan), contract)).all()  # NaN left for SafetyGuard
    with pytest.raises(ValueError, match=r"action has shape \(11,\); expected \(\.\.\., 12\)"):
        action_to_targets(np.zeros(11), contract)


# ---- boundaries ----------------------------------------------------------------------------------------
def test_importing_the_contract_pulls_in_no_heavy_frameworks():
    code = (
        "import sys, physai.contract; "
        "print(sorted(m for m in ('mujoco', 'torch', 'rclpy', 'onnx', 'onnxruntime') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---- gait clock and command ranges (walking policies) ---------------------------------------------------------
WALK_TERMS = ("base_ang_vel", "projected_gravity", "velocity_command", "gait_phase", "joint_pos_rel", "last_action")
RANGES = ((-0.3, 0.5), (-0.3, 0.3), (-1.0, 1.0))


def walk_contract(biped: RobotSpec) -> PolicyContract:
    return PolicyContract.for_robot(
        biped, WALK_TERMS, control_dt_s=0.02, physics_dt_s=0.005, gait_frequency_hz=1.25, command_ranges=RANGES
    )


def test_gait_clock_hand_values():
    assert gait_phase(0.2, 1.25).tolist() == pytest.approx([0.25, 0.75])
    np.testing.assert_allclose(gait_clock(0.2, 1.25), [1.0, 0.0, -1.0, 0.0], atol=1e-12)  # sin/cos of 90°, 270°
    np.testing.assert_allclose(gait_clock(np.array([0.0, 0.8]), 1.25), [[0, 1, 0, -1], [0, 1, 0, -1]], atol=1e-12)


def test_walk_contract_round_trips_through_onnx(biped, tmp_path):
    contract = walk_contract(biped)
    assert contract.obs_dim == 3 + 3 + 3 + 4 + 12 + 12 and contract.decimation == 4
    model, _ = tiny_mlp(contract.obs_dim, contract.action_dim)
    path = tmp_path / "walk.onnx"
    onnx.save_model(model, str(path))
    attach_to_onnx(path, contract)
    back = read_from_onnx(path)
    assert back == contract
    assert back.gait_frequency_hz == 1.25 and back.command_ranges == RANGES and back.physics_dt_s == 0.005


def test_builder_is_the_gait_clock(biped):
    contract = walk_contract(biped)
    phase = contract.observation_slices()["gait_phase"]
    builder = ObservationBuilder(contract, batch_shape=(2,))
    inputs = fake_inputs(biped, np.random.default_rng(0), (2,))
    seen = [builder(inputs, np.zeros((2, 3)), np.zeros((2, 12)))[:, phase] for _ in range(11)]
    np.testing.assert_allclose(seen[0], gait_clock(np.zeros(2), 1.25), atol=1e-6)  # 0 after construction
    np.testing.assert_allclose(seen[10], gait_clock(np.full(2, 0.2), 1.25), atol=1e-6)  # 10 steps × 0.02 s
    builder.reset(np.array([True, False]))
    assert builder.clock_s().tolist() == pytest.approx([0.0, 0.22])
    obs = builder(inputs, np.zeros((2, 3)), np.zeros((2, 12)))
    np.testing.assert_allclose(obs[:, phase], gait_clock(np.array([0.0, 0.22]), 1.25), atol=1e-6)


def test_gait_phase_needs_a_frequency_and_ranges_are_checked(biped):
    with pytest.raises(ContractError, match="gait_frequency_hz"):
        PolicyContract.for_robot(biped, WALK_TERMS)
    with pytest.raises(ContractError, match=r"command_ranges\[0\].*low ≤ high"):
        PolicyContract.for_robot(biped, command_ranges=((0.5, -0.3), (0, 0), (0, 0)))
    with pytest.raises(ContractError, match=r"command_ranges.*3 \[low, high\] pairs"):
        PolicyContract.for_robot(biped, command_ranges=((0, 1),))
    bad = walk_contract(biped).to_dict() | {"gait_frequency_hz": -1.0}
    with pytest.raises(ContractError, match="gait_frequency_hz"):
        PolicyContract.from_dict(bad)


def test_clamp_command_to_the_trained_ranges(biped):
    contract = walk_contract(biped)
    clamped, was = clamp_command([2.0, -0.1, -3.0], contract)
    assert clamped.tolist() == [0.5, -0.1, -1.0] and was
    clamped, was = clamp_command([0.2, 0.1, 0.5], contract)
    assert clamped.tolist() == [0.2, 0.1, 0.5] and not was
    assert not clamp_command([9.0, 0, 0], PolicyContract.for_robot(biped))[1]  # no ranges: unchanged


# ---- policies that drive a subset of the joints (G1: 12 legs driven, 17 held) ---------------------------------
@pytest.fixture(scope="module")
def g1() -> RobotSpec:
    return RobotSpec.load("unitree_g1")


def leg_contract(g1: RobotSpec) -> PolicyContract:
    upper = [n for n in g1.joint_names if not any(k in n for k in ("hip", "knee", "ankle"))]
    return PolicyContract.for_robot(g1, held=upper)


def test_a_12_of_29_joint_contract_round_trips_and_fits_the_g1(g1, tmp_path):
    contract = leg_contract(g1)
    assert contract.action_dim == 12 and len(contract.held_joints) == 17
    model, _ = tiny_mlp(contract.obs_dim, contract.action_dim)
    path = tmp_path / "legs.onnx"
    onnx.save_model(model, str(path))
    attach_to_onnx(path, contract)
    back = read_from_onnx(path)
    assert back == contract
    back.check(g1)
    elbow = next(h for h in back.held_joints if h.name == "left_elbow_joint")
    k = g1.joint_names.index("left_elbow_joint")
    assert (elbow.position, elbow.kp, elbow.kd) == (g1.default_pose[k], g1.kp[k], g1.kd[k])
    q, kp, kd = back.robot_targets(g1, np.full(12, 0.1))
    legs = [g1.joint_names.index(n) for n in back.joint_names]
    assert (
        np.all(q[legs] == 0.1) and q[k] == elbow.position and kp[k] == elbow.kp and kd[legs].tolist() == list(back.kd)
    )


def test_a_mismatched_held_joint_is_refused_by_name(g1):
    contract = leg_contract(g1)
    renamed = tuple(
        dataclasses.replace(h, name="left_elbow_pitch") if h.name == "left_elbow_joint" else h
        for h in contract.held_joints
    )
    with pytest.raises(ContractMismatch, match=r"robot joint 'left_elbow_joint' is missing.*instead: left_elbow_pitch"):
        dataclasses.replace(contract, held_joints=renamed).check(g1)
    outside = tuple(
        dataclasses.replace(h, position=3.5) if h.name == "waist_yaw_joint" else h for h in contract.held_joints
    )
    with pytest.raises(ContractMismatch, match=r"held joint 'waist_yaw_joint' position 3\.5 is outside") as err:
        dataclasses.replace(contract, held_joints=outside).check(g1)
    assert err.value.what == "held_joint"
    dropped = contract.held_joints[:-1]
    with pytest.raises(ContractMismatch, match="action size 12 \\+ 16 held joints ≠ the robot's 29 joints"):
        dataclasses.replace(contract, held_joints=dropped).check(g1)
    with pytest.raises(ContractError, match="held_joints"):
        PolicyContract.for_robot(g1, held=["left_wrist_nope"])
    twice = {
        **contract.to_dict(),
        "held_joints": [*contract.to_dict()["held_joints"], contract.to_dict()["held_joints"][0]],
    }
    with pytest.raises(ContractError, match=r"held_joints\[17\]\.name"):
        PolicyContract.from_dict(twice)


def test_format_2_fields_write_version_2_and_others_stay_version_1(biped):
    assert PolicyContract.for_robot(biped).version == 1  # files older physai reads as before
    assert walk_contract(biped).version == 2  # gait clock and command ranges: an older physai refuses by version
    assert walk_contract(biped).to_dict()["version"] == 2


def test_a_new_batch_shape_restarts_the_gait_clock(biped):
    contract = walk_contract(biped)
    phase = contract.observation_slices()["gait_phase"]
    builder = ObservationBuilder(contract)
    rng = np.random.default_rng(0)
    for _ in range(5):
        builder(fake_inputs(biped, rng), np.zeros(3), np.zeros(12))
    obs = builder(fake_inputs(biped, rng, (3,)), np.zeros((3, 3)), np.zeros((3, 12)))  # () → (3,): afresh
    np.testing.assert_allclose(obs[:, phase], np.broadcast_to(gait_clock(0.0, 1.25), (3, 4)), atol=1e-6)
    obs = builder(fake_inputs(biped, rng, (3,)), np.zeros((3, 3)), np.zeros((3, 12)))
    np.testing.assert_allclose(obs[:, phase], np.broadcast_to(gait_clock(0.02, 1.25), (3, 4)), atol=1e-6)
    builder(fake_inputs(biped, rng, (2,)), np.zeros((2, 3)), np.zeros((2, 12)))  # (3,) → (2,): no broadcast error
