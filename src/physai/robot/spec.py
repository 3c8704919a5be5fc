"""RobotSpec: one robot.yaml per robot, validated field by field (no MuJoCo here).

robot.yaml is the single source of truth for a robot: which MJCF to load, which joints the policy drives
(in action order), their limits, default pose and default PD gains, the base body, IMU site and feet.
`RobotSpec.load` checks the YAML alone (no MuJoCo: the robot side reads specs too); the cross-check against
the compiled MJCF is the sim layer's (`physai.sim.mjcf.check_spec_against_mjcf`), run by every model build.

Units (SI, REP-103): positions rad (m for prismatic joints), velocities rad/s, efforts N·m (N),
kp N·m/rad, kd N·m·s/rad.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from physai.errors import FieldError
from physai.paths import robot_descriptions_dir


class RobotSpecError(FieldError):
    """A robot.yaml that cannot be used; the message names the file, the field, the value and what was expected."""


@dataclass(frozen=True)
class JointSpec:
    """One actuated joint, in the units of its MJCF joint type (hinge: rad; slide: m)."""

    name: str
    """Joint name in the MJCF."""
    lower: float
    """Lower position limit (rad or m); inside the MJCF joint range."""
    upper: float
    """Upper position limit (rad or m); greater than `lower`."""
    velocity: float
    """Velocity limit (rad/s or m/s), > 0."""
    effort: float
    """Torque (N·m) or force (N) limit, > 0; the actuator clamps to ±effort."""
    default: float
    """Default (standing / ready) position, inside [lower, upper]."""
    kp: float
    """Default position gain (N·m/rad), ≥ 0."""
    kd: float
    """Default damping gain (N·m·s/rad), ≥ 0."""


@dataclass(frozen=True)
class RobotSpec:
    """A validated robot description. Array properties are in joint (action) order, shape (n_joints,)."""

    name: str
    """Robot name; equals its folder under robot_descriptions/."""
    description: str
    """One line for tables."""
    mjcf_file: str
    """The robot's MJCF: a path relative to robot.yaml, or inside `mjcf_package` (resolved by `mjcf_path`)."""
    mjcf_package: str | None
    """Python package that ships the MJCF (e.g. envpool-assets), or None for an MJCF beside robot.yaml."""
    base_body: str
    """The floating base body (or the fixed base link of an arm)."""
    imu_site: str | None
    """Site carrying the IMU (gyro, accelerometer, orientation); None for robots without one."""
    foot_bodies: tuple[str, ...]
    """Bodies whose contacts count as foot contacts, in a fixed order."""
    base_height_m: float | None
    """Initial base height at reset for floating-base robots (m); None for fixed-base robots."""
    camera: str | None
    """Camera in the MJCF used for images (e.g. the arm's scene camera), or None."""
    end_effector_site: str | None
    """Site at the tool centre point, or None."""
    joints: tuple[JointSpec, ...]
    """Actuated joints in policy/action order."""
    source: Path
    """The robot.yaml this spec was loaded from."""

    # ---- derived arrays -------------------------------------------------------------------------
    @property
    def n_joints(self) -> int:
        """Number of actuated joints (the action size)."""
        return len(self.joints)

    @property
    def joint_names(self) -> tuple[str, ...]:
        """Joint names in action order."""
        return tuple(j.name for j in self.joints)

    def _column(self, attr: str) -> np.ndarray:
        return np.array([getattr(j, attr) for j in self.joints], dtype=np.float64)

    @property
    def lower(self) -> np.ndarray:
        """Lower position limits, (n_joints,)."""
        return self._column("lower")

    @property
    def upper(self) -> np.ndarray:
        """Upper position limits, (n_joints,)."""
        return self._column("upper")

    @property
    def velocity_limit(self) -> np.ndarray:
        """Velocity limits, (n_joints,)."""
        return self._column("velocity")

    @property
    def effort_limit(self) -> np.ndarray:
        """Torque/force limits, (n_joints,)."""
        return self._column("effort")

    @property
    def default_pose(self) -> np.ndarray:
        """Default joint positions, (n_joints,)."""
        return self._column("default")

    @property
    def kp(self) -> np.ndarray:
        """Default position gains, (n_joints,)."""
        return self._column("kp")

    @property
    def kd(self) -> np.ndarray:
        """Default damping gains, (n_joints,)."""
        return self._column("kd")

    @property
    def floating_base(self) -> bool:
        """True for free-floating robots (humanoids), False for fixed-base arms."""
        return self.base_height_m is not None

    @property
    def mjcf_path(self) -> Path:
        """The MJCF file, resolved now: only the sim side opens it (a robot computer may not have it).

        Raises RobotSpecError naming field mjcf (or mjcf.package / mjcf.path) when it cannot be found.
        """
        if self.mjcf_package is None:
            path = (self.source.parent / self.mjcf_file).resolve()
            if not path.is_file():
                expected = f"an MJCF file relative to {self.source.parent} (not found: {path})"
                raise RobotSpecError(self.source, "mjcf", self.mjcf_file, expected)
            return path
        found = importlib.util.find_spec(self.mjcf_package)
        if found is None or not found.submodule_search_locations:
            expected = "an installed Python package (pip install it)"
            raise RobotSpecError(self.source, "mjcf.package", self.mjcf_package, expected)
        path = Path(next(iter(found.submodule_search_locations))) / self.mjcf_file
        if not path.is_file():
            expected = f"an MJCF file inside package {self.mjcf_package} (not found: {path})"
            raise RobotSpecError(self.source, "mjcf.path", self.mjcf_file, expected)
        return path

    # ---- loading ----------------------------------------------------------------------------------
    @classmethod
    def load(cls, name_or_path: str | Path) -> RobotSpec:
        """Load a robot by registry name (`unitree_g1`), robot folder or robot.yaml path, and validate its YAML.

        Raises RobotSpecError naming the file, field, value and expectation on any problem. The MJCF is not
        opened here (physai.sim.mjcf checks it against the spec whenever a model is built).
        """
        path = resolve_robot_yaml(name_or_path)
        try:
            data = yaml.safe_load(path.read_text())
        except yaml.YAMLError as err:
            raise RobotSpecError(path, "<document>", str(err).splitlines()[0], "valid YAML") from err
        return cls.from_dict(data, path)

    @classmethod
    def from_dict(cls, data: Any, source: Path) -> RobotSpec:
        """Build a spec from parsed YAML, checking keys, types and value ranges (not the MJCF)."""
        reader = _Reader(source)
        top = reader.mapping(data, "<document>", required=_TOP_REQUIRED, optional=_TOP_OPTIONAL)
        name = reader.string(top["name"], "name")
        if source.name == "robot.yaml" and source.parent.name != name:
            raise RobotSpecError(source, "name", name, f"the robot folder name {source.parent.name!r}")
        raw_joints = top["joints"]
        if not isinstance(raw_joints, list) or not raw_joints:
            raise RobotSpecError(source, "joints", raw_joints, "a non-empty list of joint mappings")
        joints = tuple(reader.joint(j, f"joints[{i}]") for i, j in enumerate(raw_joints))
        seen: set[str] = set()
        for i, joint in enumerate(joints):
            if joint.name in seen:
                raise RobotSpecError(source, f"joints[{i}].name", joint.name, "a name not listed before")
            seen.add(joint.name)
        feet = top.get("foot_bodies") or []
        if not isinstance(feet, list):
            raise RobotSpecError(source, "foot_bodies", feet, "a list of body names")
        base_height = top.get("base_height_m")
        if base_height is not None:
            base_height = reader.number(base_height, "base_height_m", minimum=0.0, strict=True)
        return cls(
            name=name,
            description=reader.string(top.get("description", ""), "description", allow_empty=True),
            mjcf_file=reader.mjcf(top["mjcf"]),
            mjcf_package=top["mjcf"]["package"] if isinstance(top["mjcf"], dict) else None,
            base_body=reader.string(top["base_body"], "base_body"),
            imu_site=reader.optional_string(top.get("imu_site"), "imu_site"),
            foot_bodies=tuple(reader.string(f, f"foot_bodies[{i}]") for i, f in enumerate(feet)),
            base_height_m=base_height,
            camera=reader.optional_string(top.get("camera"), "camera"),
            end_effector_site=reader.optional_string(top.get("end_effector_site"), "end_effector_site"),
            joints=joints,
            source=source,
        )


_TOP_REQUIRED = ("name", "mjcf", "base_body", "joints")
_TOP_OPTIONAL = ("description", "imu_site", "foot_bodies", "base_height_m", "camera", "end_effector_site")
_JOINT_FIELDS = tuple(f.name for f in fields(JointSpec))


class _Reader:
    """Typed field access that raises RobotSpecError with the field's dotted path."""

    def __init__(self, source: Path) -> None:
        self.source = source

    def fail(self, field: str, value: Any, expected: str) -> RobotSpecError:
        return RobotSpecError(self.source, field, value, expected)

    def mapping(self, value: Any, field: str, *, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
        if not isinstance(value, dict):
            raise self.fail(field, value, "a mapping")
        allowed = set(required) | set(optional)
        for key in value:
            if key not in allowed:
                where = key if field == "<document>" else f"{field}.{key}"
                raise self.fail(where, value[key], f"no such key (allowed: {', '.join(sorted(allowed))})")
        for key in required:
            if key not in value:
                where = key if field == "<document>" else f"{field}.{key}"
                raise self.fail(where, None, "a value (the key is required)")
        return value

    def string(self, value: Any, field: str, *, allow_empty: bool = False) -> str:
        if not isinstance(value, str) or (not value and not allow_empty):
            raise self.fail(field, value, "a non-empty string")
        return value

    def optional_string(self, value: Any, field: str) -> str | None:
        return None if value is None else self.string(value, field)

    def number(self, value: Any, field: str, *, minimum: float | None = None, strict: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
            raise self.fail(field, value, "a finite number")
        if minimum is not None and (value < minimum or (strict and value == minimum)):
            raise self.fail(field, value, f"a number {'>' if strict else '≥'} {minimum}")
        return float(value)

    def joint(self, value: Any, field: str) -> JointSpec:
        raw = self.mapping(value, field, required=_JOINT_FIELDS)
        name = self.string(raw["name"], f"{field}.name")
        lower = self.number(raw["lower"], f"{field}.lower")
        upper = self.number(raw["upper"], f"{field}.upper")
        if not lower < upper:
            raise self.fail(f"{field}.upper", upper, f"a value greater than lower ({lower})")
        default = self.number(raw["default"], f"{field}.default")
        if not lower <= default <= upper:
            raise self.fail(f"{field}.default", default, f"a value within [lower, upper] = [{lower}, {upper}]")
        return JointSpec(
            name=name,
            lower=lower,
            upper=upper,
            velocity=self.number(raw["velocity"], f"{field}.velocity", minimum=0.0, strict=True),
            effort=self.number(raw["effort"], f"{field}.effort", minimum=0.0, strict=True),
            default=default,
            kp=self.number(raw["kp"], f"{field}.kp", minimum=0.0),
            kd=self.number(raw["kd"], f"{field}.kd", minimum=0.0),
        )

    def mjcf(self, value: Any) -> str:
        """A path relative to robot.yaml, or {package, path} inside a Python package; the file is not opened."""
        if isinstance(value, str):
            return self.string(value, "mjcf")
        raw = self.mapping(value, "mjcf", required=("package", "path"))
        self.string(raw["package"], "mjcf.package")
        return self.string(raw["path"], "mjcf.path")


def resolve_robot_yaml(name_or_path: str | Path) -> Path:
    """Map a registry name, a robot folder or a robot.yaml path to the robot.yaml file."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml"):
        if not path.is_file():
            raise FileNotFoundError(f"robot spec {path} does not exist")
        return path.resolve()
    if path.is_dir() and (path / "robot.yaml").is_file():
        return (path / "robot.yaml").resolve()
    candidate = robot_descriptions_dir() / str(name_or_path) / "robot.yaml"
    if candidate.is_file():
        return candidate
    known = ", ".join(available_robots()) or "none"
    raise FileNotFoundError(f"unknown robot {str(name_or_path)!r}; known robots: {known} (or pass a robot.yaml path)")


def available_robots() -> list[str]:
    """Names of the robots under robot_descriptions/, sorted."""
    root = robot_descriptions_dir()
    return sorted(p.parent.name for p in root.glob("*/robot.yaml"))
