"""The robot side's numpy forward kinematics (kinematics.yaml) against MuJoCo's own end-effector position."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
import yaml

from physai.errors import FieldError
from physai.robot import RobotSpec
from physai.robot.kinematics import Chain, chain_path, load_chain
from physai.sim.kinematics import chain_from_model
from physai.sim.simulator import Simulator


def test_the_shipped_kinematics_yaml_is_the_models_chain():
    spec = RobotSpec.load("testbed_arm")
    assert load_chain(spec.source) == chain_from_model(spec)  # regenerate: physai robot kinematics testbed_arm


def test_numpy_fk_matches_mujoco_at_random_joint_values():
    sim = Simulator("testbed_arm")
    spec, model, data = sim.spec, sim.model, sim.data
    chain = load_chain(spec.source)
    site = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, spec.end_effector_site)
    base = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, spec.base_body)
    rng = np.random.default_rng(0)
    lower, upper = np.array([j.lower for j in spec.joints]), np.array([j.upper for j in spec.joints])
    worst = 0.0
    for _ in range(50):
        q = rng.uniform(lower, upper)
        data.qpos[sim.layout.joint_qpos] = q
        mujoco.mj_forward(model, data)
        truth = data.xmat[base].reshape(3, 3).T @ (data.site_xpos[site] - data.xpos[base])
        got = chain.position(dict(zip(spec.joint_names, q, strict=True)))
        worst = max(worst, float(np.linalg.norm(got - truth)))
    assert worst < 1e-9


def test_a_bad_kinematics_yaml_names_the_field(tmp_path):
    data = chain_from_model(RobotSpec.load("testbed_arm")).to_dict()
    data["links"][2]["joints"][0]["axis"] = [0, 1]
    with pytest.raises(FieldError, match=r"field 'links\[2\].joints\[0\].axis' is \[0, 1\]; expected 3 finite"):
        Chain.from_dict(yaml.safe_load(yaml.safe_dump(data)), "k.yaml")
    with pytest.raises(KeyError, match="shoulder_lift"):
        load_chain(chain_path(RobotSpec.load("testbed_arm").source)).position({"shoulder_pan": 0.0})
