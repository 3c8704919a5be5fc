"""Forward kinematics of the end effector on the robot side: numpy only, from <robot>/kinematics.yaml.

The chain runs from the base body to the end-effector site. Each link is a body's pose in its parent's frame
(position m, quaternion wxyz) and the joints moving it (hinge: rotation about `axis` through `anchor`, rad;
slide: translation along `axis`, m), applied as MuJoCo applies them, so `position(q)` is MuJoCo's site
position expressed in the base frame. The YAML is written from the compiled model by
`physai robot kinematics NAME` (physai.sim.kinematics), which the tests check against MuJoCo itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from physai.errors import FieldError
from physai.robot.state import quat_to_matrix
from physai.values import finite_numbers

FILE_NAME = "kinematics.yaml"


@dataclass(frozen=True)
class ChainJoint:
    """A joint that moves a link."""

    name: str
    kind: str
    """hinge | slide."""
    axis: tuple[float, float, float]
    """Unit axis in the link's frame."""
    anchor: tuple[float, float, float]
    """A point on a hinge's axis in the link's frame (m)."""
    zero: float
    """Joint value at which the link sits at its rest pose (MuJoCo qpos0: rad or m)."""


@dataclass(frozen=True)
class Link:
    """A body of the chain: its rest pose in its parent's frame and the joints that move it."""

    body: str
    pos: tuple[float, float, float]
    quat: tuple[float, float, float, float]
    """wxyz."""
    joints: tuple[ChainJoint, ...] = ()


@dataclass(frozen=True)
class Chain:
    """Base body → end-effector site."""

    base: str
    site: str
    links: tuple[Link, ...]
    site_pos: tuple[float, float, float]
    """The site in the last link's frame (m)."""

    @property
    def joint_names(self) -> tuple[str, ...]:
        """Joints that move the end effector, base to tip."""
        return tuple(j.name for link in self.links for j in link.joints)

    def position(self, joint_pos: Mapping[str, float]) -> np.ndarray:
        """End-effector position in the base frame (m), shape (3,), for joint values by name (rad or m).

        KeyError naming a chain joint missing from `joint_pos`.
        """
        rot, pos = np.eye(3), np.zeros(3)
        for link in self.links:
            pos = pos + rot @ np.asarray(link.pos)
            rot = rot @ quat_to_matrix(np.asarray(link.quat))
            for joint in link.joints:
                value = float(joint_pos[joint.name]) - joint.zero
                axis = np.asarray(joint.axis)
                if joint.kind == "slide":
                    pos = pos + rot @ (axis * value)
                else:  # hinge: rotate about the axis through the anchor
                    anchor = rot @ np.asarray(joint.anchor)
                    turn = _axis_angle(axis, value)
                    pos = pos + anchor - rot @ turn @ np.asarray(joint.anchor)
                    rot = rot @ turn
        return pos + rot @ np.asarray(self.site_pos)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for YAML."""
        return {
            "base": self.base,
            "site": self.site,
            "site_pos": list(self.site_pos),
            "links": [
                {
                    "body": link.body,
                    "pos": list(link.pos),
                    "quat": list(link.quat),
                    "joints": [
                        {"name": j.name, "kind": j.kind, "axis": list(j.axis), "anchor": list(j.anchor), "zero": j.zero}
                        for j in link.joints
                    ],
                }
                for link in self.links
            ],
        }

    @classmethod
    def from_dict(cls, data: Any, source: str | Path = "") -> Chain:
        """The chain of a kinematics.yaml; FieldError naming the first bad field."""

        def vec(value: Any, field: str, n: int) -> tuple[float, ...]:
            numbers = finite_numbers(value, n)
            if numbers is None:
                raise FieldError(source, field, value, f"{n} finite numbers")
            return numbers

        if not isinstance(data, dict):
            raise FieldError(source, "<top>", data, "a mapping with base, site, site_pos, links")
        links = []
        for i, link in enumerate(data.get("links") or []):
            joints = []
            for k, joint in enumerate(link.get("joints") or []):
                where = f"links[{i}].joints[{k}]"
                if joint.get("kind") not in ("hinge", "slide"):
                    raise FieldError(source, f"{where}.kind", joint.get("kind"), "hinge or slide")
                joints.append(
                    ChainJoint(
                        str(joint["name"]),
                        joint["kind"],
                        vec(joint.get("axis"), f"{where}.axis", 3),  # type: ignore[arg-type]
                        vec(joint.get("anchor"), f"{where}.anchor", 3),  # type: ignore[arg-type]
                        float(joint.get("zero", 0.0)),
                    )
                )
            links.append(
                Link(
                    str(link.get("body", "")),
                    vec(link.get("pos"), f"links[{i}].pos", 3),  # type: ignore[arg-type]
                    vec(link.get("quat"), f"links[{i}].quat", 4),  # type: ignore[arg-type]
                    tuple(joints),
                )
            )
        if not links:
            raise FieldError(source, "links", data.get("links"), "at least one link")
        site_pos = vec(data.get("site_pos"), "site_pos", 3)
        return cls(str(data.get("base", "")), str(data.get("site", "")), tuple(links), site_pos)  # type: ignore[arg-type]


def chain_path(robot_yaml: str | Path) -> Path:
    """Where a robot's kinematics.yaml lives: beside its robot.yaml."""
    return Path(robot_yaml).parent / FILE_NAME


def load_chain(robot_yaml: str | Path) -> Chain | None:
    """The end-effector chain beside robot.yaml, or None when the robot has no kinematics.yaml."""
    path = chain_path(robot_yaml)
    if not path.is_file():
        return None
    return Chain.from_dict(yaml.safe_load(path.read_text()), path)


def _axis_angle(axis: np.ndarray, angle: float) -> np.ndarray:
    half = 0.5 * angle
    return quat_to_matrix(np.concatenate([[np.cos(half)], np.sin(half) * axis / np.linalg.norm(axis)]))
