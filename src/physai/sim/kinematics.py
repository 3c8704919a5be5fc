"""The end-effector chain read from the compiled MuJoCo model, for the robot side's numpy FK (kinematics.yaml).

`physai robot kinematics NAME` writes it beside robot.yaml; tests compare its `position(q)` with MuJoCo's own
site position for random joint values.
"""

from __future__ import annotations

from pathlib import Path

import mujoco
import numpy as np
import yaml

from physai.robot.kinematics import Chain, ChainJoint, Link, chain_path
from physai.robot.spec import RobotSpec
from physai.sim.mjcf import build_model

_KINDS = {int(mujoco.mjtJoint.mjJNT_HINGE): "hinge", int(mujoco.mjtJoint.mjJNT_SLIDE): "slide"}


def chain_from_model(spec: RobotSpec, model: mujoco.MjModel | None = None) -> Chain:
    """Base body → end-effector site of `spec`'s model.

    ValueError if the robot has no end effector, or a ball or free joint lies on the way.
    """
    if not spec.end_effector_site:
        raise ValueError(f"{spec.name} has no end_effector_site in its robot.yaml; expected one for kinematics")
    model = model if model is not None else build_model(spec)
    site = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, spec.end_effector_site)
    base = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, spec.base_body)
    bodies = []
    body = int(model.site_bodyid[site])
    while body != base:
        if body == 0:
            raise ValueError(f"{spec.end_effector_site} is not below the base body {spec.base_body}")
        bodies.append(body)
        body = int(model.body_parentid[body])
    links = []
    for body in reversed(bodies):
        joints = []
        for j in range(model.body_jntadr[body], model.body_jntadr[body] + model.body_jntnum[body]):
            kind = _KINDS.get(int(model.jnt_type[j]))
            if kind is None:
                raise ValueError(f"joint {model.joint(j).name} on the end-effector chain is neither hinge nor slide")
            axis, anchor = model.jnt_axis[j], model.jnt_pos[j]
            zero = float(model.qpos0[model.jnt_qposadr[j]])
            joints.append(ChainJoint(model.joint(j).name, kind, _floats(axis), _floats(anchor), zero))
        links.append(Link(model.body(body).name, _floats(model.body_pos[body]), _floats(model.body_quat[body]),
                          tuple(joints)))  # fmt: skip
    return Chain(spec.base_body, spec.end_effector_site, tuple(links), _floats(model.site_pos[site]))


def write_chain(spec: RobotSpec) -> Path:
    """Write `spec`'s kinematics.yaml beside its robot.yaml; returns the path."""
    path = chain_path(spec.source)
    header = f"# End-effector chain of {spec.name}, written by `physai robot kinematics {spec.name}` from its MJCF.\n"
    path.write_text(header + yaml.safe_dump(chain_from_model(spec).to_dict(), sort_keys=False, default_flow_style=None))
    return path


def _floats(values: np.ndarray) -> tuple[float, ...]:
    return tuple(round(float(v), 12) for v in values)
