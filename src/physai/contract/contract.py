"""PolicyContract: everything a policy file must agree on with the code that runs it.

A contract fixes the robot and joint (action) order, the observation layout (which terms, in which order,
scaled how, with how much history), the action mapping q* = default_pos + scale · clip(a, −clip, clip),
the PD gains the policy was trained with, and the control and physics periods. It travels inside the ONNX
file as JSON (`to_onnx_metadata` / `from_onnx_metadata`), is validated field by field on construction and
parse, and `check(spec)` refuses to run it on a robot it does not fit.

Observation layout: the terms' blocks are concatenated in contract order. A term with `history` H contributes
H blocks of its size, newest first: [x_t, x_{t−1}, …, x_{t−H+1}], each already multiplied by the term's
scale. History advances once per policy step (every `control_dt_s`), and after a reset the past entries are
filled according to `history_fill`: "current" repeats the first observed value, "zeros" uses zeros.

Units (SI, REP-103): positions rad (m for prismatic joints), kp N·m/rad, kd N·m·s/rad, periods s.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any

from physai.contract.errors import ContractError, ContractMismatch, NoContractError
from physai.contract.terms import OBSERVATION_TERMS, TermDef

if TYPE_CHECKING:
    from physai.robot.spec import RobotSpec

CONTRACT_VERSION = 2
"""Newest contract format this code reads. A contract is written as version 1 unless it uses what version 2
added (gait_frequency_hz, command_ranges, held_joints), so older physai refuses those files by version."""
METADATA_KEY = "physai.contract"
"""ONNX metadata_props key holding the contract as JSON (the only key that is read back)."""
METADATA_PREFIX = "physai."
"""Prefix of every metadata key physai writes (the others are human-readable summaries)."""
HISTORY_FILLS = ("current", "zeros")
"""Allowed values of `PolicyContract.history_fill`."""
_DT_TOLERANCE = 1e-9


# ---- field validation -----------------------------------------------------------------------------------
def _check_version(version: Any) -> None:
    if isinstance(version, bool) or not isinstance(version, Integral) or not 1 <= version <= CONTRACT_VERSION:
        expected = f"an integer in 1..{CONTRACT_VERSION}"
        if isinstance(version, Integral) and not isinstance(version, bool) and version > CONTRACT_VERSION:
            expected = f"≤ {CONTRACT_VERSION} (the policy was exported by a newer physai; update physai to run it)"
        raise ContractError.for_field("version", version, expected)


def _number(value: Any, field: str, *, minimum: float | None = None, strict: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        raise ContractError.for_field(field, value, "a finite number")
    value = float(value)
    if minimum is not None and (value < minimum or (strict and value == minimum)):
        raise ContractError.for_field(field, value, f"a finite number {'>' if strict else '≥'} {minimum:g}")
    return value


def _sequence(value: Any, field: str, what: str) -> tuple:
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()  # numpy arrays and scalars
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise ContractError.for_field(field, value, f"a list of {what}")
    return tuple(value)


def _numbers(
    value: Any, field: str, length: int | None, *, minimum: float | None = None, strict: bool = False
) -> tuple[float, ...]:
    items = _sequence(value, field, "numbers")
    if length is not None and len(items) != length:
        raise ContractError.for_field(field, items, f"{length} values (one per joint, in joint_names order)")
    return tuple(_number(v, f"{field}[{i}]", minimum=minimum, strict=strict) for i, v in enumerate(items))


def _scale(value: Any, field: str, *, positive: bool) -> float | tuple[float, ...]:
    minimum = 0.0 if positive else None
    if isinstance(value, Real) and not isinstance(value, bool):
        return _number(value, field, minimum=minimum, strict=positive)
    items = _numbers(value, field, None, minimum=minimum, strict=positive)
    if not items:
        raise ContractError.for_field(field, value, "a number or a non-empty list of numbers")
    return items


def _ranges(value: Any, field: str) -> tuple[tuple[float, float], ...]:
    rows = _sequence(value, field, "[low, high] pairs")
    if len(rows) != 3:
        raise ContractError.for_field(field, rows, "3 [low, high] pairs: vx (m/s), vy (m/s), yaw rate (rad/s)")
    out = []
    for i, row in enumerate(rows):
        pair = _sequence(row, f"{field}[{i}]", "numbers")
        if len(pair) != 2:
            raise ContractError.for_field(f"{field}[{i}]", pair, "[low, high] (m/s, or rad/s for the yaw rate)")
        lo, hi = (_number(v, f"{field}[{i}][{k}]") for k, v in enumerate(pair))
        if lo > hi:
            raise ContractError.for_field(f"{field}[{i}]", [lo, hi], "[low, high] with low ≤ high")
        out.append((lo, hi))
    return tuple(out)


def _check_scale_length(scale: float | tuple[float, ...], size: int, field: str, what: str) -> None:
    if isinstance(scale, tuple) and len(scale) != size:
        raise ContractError.for_field(field, scale, f"one number or {size} numbers ({what})")


# ---- contract parts -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ObservationTerm:
    """One block of the observation vector: a registered term, its scale and its history length."""

    name: str
    """Term name from `physai.contract.terms.OBSERVATION_TERMS` (e.g. `projected_gravity`)."""
    scale: float | tuple[float, ...] = 1.0
    """Multiplier applied to the term before it enters the observation: one number, or one per element."""
    history: int = 1
    """Number of policy steps stacked, newest first (1: only the current value)."""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or self.name not in OBSERVATION_TERMS:
            raise ContractError.for_field("name", self.name, f"one of {', '.join(OBSERVATION_TERMS)}")
        object.__setattr__(self, "scale", _scale(self.scale, "scale", positive=False))
        if isinstance(self.history, bool) or not isinstance(self.history, Integral) or self.history < 1:
            raise ContractError.for_field("history", self.history, "an integer ≥ 1")
        object.__setattr__(self, "history", int(self.history))

    @property
    def definition(self) -> TermDef:
        """The registry entry of this term."""
        return OBSERVATION_TERMS[self.name]

    def size(self, n_joints: int) -> int:
        """Values per history step (3, 4 for gait_phase, or `n_joints` for joint terms)."""
        return self.definition.size(n_joints)


@dataclass(frozen=True)
class ActionSpec:
    """How the policy output maps to joint position targets: q* = default_pos + scale · clip(a, −clip, clip)."""

    scale: float | tuple[float, ...] = 0.25
    """Action scale (rad per unit action, m for prismatic joints), > 0: one number or one per joint."""
    clip: float | None = 1.0
    """Raw actions are clipped to [−clip, clip] before scaling (> 0); None: no clipping."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "scale", _scale(self.scale, "scale", positive=True))
        if self.clip is not None:
            object.__setattr__(self, "clip", _number(self.clip, "clip", minimum=0.0, strict=True))


@dataclass(frozen=True)
class HeldJoint:
    """A robot joint the policy does not drive: held at `position` with gains kp, kd by the actuator side."""

    name: str
    """Robot joint name."""
    position: float
    """Hold position (rad or m), inside the joint's limits."""
    kp: float
    """Hold position gain (N·m/rad), ≥ 0."""
    kd: float
    """Hold damping gain (N·m·s/rad), ≥ 0."""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ContractError.for_field("name", self.name, "a non-empty joint name")
        object.__setattr__(self, "position", _number(self.position, "position"))
        object.__setattr__(self, "kp", _number(self.kp, "kp", minimum=0.0))
        object.__setattr__(self, "kd", _number(self.kd, "kd", minimum=0.0))


LOCOMOTION_TERMS: tuple[ObservationTerm, ...] = tuple(
    ObservationTerm(n)
    for n in ("base_ang_vel", "projected_gravity", "velocity_command", "joint_pos_rel", "joint_vel", "last_action")
)
"""Default observation of floating-base robots in `PolicyContract.for_robot`."""
REACH_TERMS: tuple[ObservationTerm, ...] = tuple(
    ObservationTerm(n) for n in ("joint_pos_rel", "joint_vel", "ee_pos", "target_pos", "last_action")
)
"""Default observation of fixed-base robots (arms) in `PolicyContract.for_robot`."""


# ---- the contract -----------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class PolicyContract:
    """The observation/action contract a policy file carries. Per-joint tuples are in `joint_names` order."""

    version: int = 1
    """Contract format version (1, or 2 with a gait clock, command ranges or held joints); files written by a
    newer physai are refused, not misread."""
    robot: str
    """Robot name (`RobotSpec.name`) the policy was trained for."""
    joint_names: tuple[str, ...]
    """Actuated joints in action order; the action has one value per joint."""
    observation: tuple[ObservationTerm, ...]
    """Observation terms in the order their blocks appear in the observation vector."""
    action: ActionSpec
    """Mapping from policy output to joint position targets."""
    default_pos: tuple[float, ...]
    """Joint positions the action is relative to and `joint_pos_rel` subtracts (rad or m), (n_joints,)."""
    kp: tuple[float, ...]
    """Position gains the policy was trained with (N·m/rad), ≥ 0, (n_joints,)."""
    kd: tuple[float, ...]
    """Damping gains the policy was trained with (N·m·s/rad), ≥ 0, (n_joints,)."""
    control_dt_s: float
    """Policy period (s), e.g. 0.02 for 50 Hz; an integer multiple of `physics_dt_s`."""
    physics_dt_s: float
    """Physics (PD) period the policy was trained with (s), e.g. 0.002."""
    history_fill: str = "current"
    """How history entries older than a reset are filled: "current" (repeat the first value) or "zeros"."""
    gait_frequency_hz: float | None = None
    """Frequency of the gait clock (Hz, > 0) when the observation has `gait_phase`; None otherwise."""
    command_ranges: tuple[tuple[float, float], ...] | None = None
    """[low, high] of vx (m/s), vy (m/s) and yaw rate (rad/s) the policy was trained on; None: no command.

    The policy node clamps /cmd_vel into these ranges (and reports it), so a robot is never asked for a
    speed its policy has not seen.
    """
    held_joints: tuple[HeldJoint, ...] = ()
    """Robot joints the policy does not drive (e.g. a G1's arms under a 12-joint leg policy), each held at a
    position with hold gains by sim_node / driver_node; `joint_names` and these together are the robot's joints."""

    def __post_init__(self) -> None:
        put = object.__setattr__
        _check_version(self.version)
        put(self, "version", int(self.version))
        if not isinstance(self.robot, str) or not self.robot:
            raise ContractError.for_field("robot", self.robot, "a non-empty robot name")
        names = _sequence(self.joint_names, "joint_names", "joint names")
        if not names:
            raise ContractError.for_field("joint_names", names, "at least one joint name")
        seen: set[str] = set()
        for i, name in enumerate(names):
            if not isinstance(name, str) or not name or name in seen:
                raise ContractError.for_field(f"joint_names[{i}]", name, "a non-empty joint name not listed before")
            seen.add(name)
        put(self, "joint_names", names)
        n = len(names)

        terms = _sequence(self.observation, "observation", "observation terms")
        if not terms:
            raise ContractError.for_field("observation", terms, "at least one observation term")
        checked: list[ObservationTerm] = []
        for i, entry in enumerate(terms):
            try:
                term = ObservationTerm(entry) if isinstance(entry, str) else entry
            except ContractError as err:
                raise err.nested(f"observation[{i}]") from None
            if not isinstance(term, ObservationTerm):
                raise ContractError.for_field(f"observation[{i}]", term, "an ObservationTerm")
            if any(t.name == term.name for t in checked):
                raise ContractError.for_field(f"observation[{i}].name", term.name, "a term not listed before")
            size = term.size(n)
            _check_scale_length(term.scale, size, f"observation[{i}].scale", f"term size of '{term.name}'")
            checked.append(term)
        put(self, "observation", tuple(checked))

        if not isinstance(self.action, ActionSpec):
            raise ContractError.for_field("action", self.action, "an ActionSpec")
        _check_scale_length(self.action.scale, n, "action.scale", "one per joint")
        put(self, "default_pos", _numbers(self.default_pos, "default_pos", n))
        put(self, "kp", _numbers(self.kp, "kp", n, minimum=0.0))
        put(self, "kd", _numbers(self.kd, "kd", n, minimum=0.0))
        control = _number(self.control_dt_s, "control_dt_s", minimum=0.0, strict=True)
        physics = _number(self.physics_dt_s, "physics_dt_s", minimum=0.0, strict=True)
        ratio = control / physics
        if round(ratio) < 1 or abs(ratio - round(ratio)) > _DT_TOLERANCE * max(1.0, ratio):
            raise ContractError.for_field(
                "control_dt_s", control, f"a positive integer multiple of physics_dt_s ({physics:g} s)"
            )
        put(self, "control_dt_s", control)
        put(self, "physics_dt_s", physics)
        if self.history_fill not in HISTORY_FILLS:
            raise ContractError.for_field("history_fill", self.history_fill, f"one of {', '.join(HISTORY_FILLS)}")
        if self.gait_frequency_hz is not None:
            put(
                self,
                "gait_frequency_hz",
                _number(self.gait_frequency_hz, "gait_frequency_hz", minimum=0.0, strict=True),
            )
        if self.uses("gait_phase") and self.gait_frequency_hz is None:
            raise ContractError.for_field(
                "gait_frequency_hz", None, "a frequency > 0 Hz (the observation has the gait_phase term)"
            )
        if self.command_ranges is not None:
            put(self, "command_ranges", _ranges(self.command_ranges, "command_ranges"))
        held = []
        for i, entry in enumerate(_sequence(self.held_joints, "held_joints", "held joints")):
            try:
                joint = HeldJoint(**entry) if isinstance(entry, Mapping) else entry
            except ContractError as err:
                raise err.nested(f"held_joints[{i}]") from None
            except TypeError:
                raise ContractError.for_field(f"held_joints[{i}]", entry, "{name, position, kp, kd}") from None
            if not isinstance(joint, HeldJoint):
                raise ContractError.for_field(f"held_joints[{i}]", joint, "a HeldJoint {name, position, kp, kd}")
            if joint.name in seen or any(h.name == joint.name for h in held):
                raise ContractError.for_field(
                    f"held_joints[{i}].name", joint.name, "a joint neither driven nor held before"
                )
            held.append(joint)
        put(self, "held_joints", tuple(held))
        if self.version < 2 and (self.gait_frequency_hz is not None or self.command_ranges or self.held_joints):
            put(self, "version", 2)  # the fields of format 2 are in use

    # ---- derived sizes ------------------------------------------------------------------------------------
    @property
    def n_joints(self) -> int:
        """Number of actuated joints."""
        return len(self.joint_names)

    @property
    def action_dim(self) -> int:
        """Size of the policy output (one value per joint)."""
        return len(self.joint_names)

    @property
    def obs_dim(self) -> int:
        """Size of the observation vector: Σ term size × history."""
        return sum(t.size(self.n_joints) * t.history for t in self.observation)

    @property
    def decimation(self) -> int:
        """Physics steps per policy step (control_dt_s / physics_dt_s)."""
        return round(self.control_dt_s / self.physics_dt_s)

    @property
    def privileged_terms(self) -> tuple[str, ...]:
        """Names of terms that need simulation truth (e.g. base_lin_vel); empty for deployable policies."""
        return tuple(t.name for t in self.observation if t.definition.privileged)

    def uses(self, term: str) -> bool:
        """True when the observation contains the term `term`."""
        return any(t.name == term for t in self.observation)

    def observation_slices(self) -> dict[str, slice]:
        """Where each term's block (all its history steps) lies in the observation vector."""
        out: dict[str, slice] = {}
        start = 0
        for term in self.observation:
            stop = start + term.size(self.n_joints) * term.history
            out[term.name] = slice(start, stop)
            start = stop
        return out

    # ---- robot check --------------------------------------------------------------------------------------
    def check(self, spec: RobotSpec) -> None:
        """Refuse (ContractMismatch) to run this contract on `spec` unless robot, joints, order and limits agree."""

        def mismatch(what: str, detail: str) -> ContractMismatch:
            return ContractMismatch(
                what, f"policy contract (robot {self.robot!r}) does not fit robot {spec.name!r}: {detail}"
            )

        if spec.name != self.robot:
            raise mismatch("robot", f"the policy was trained for robot {self.robot!r}, not {spec.name!r}")
        robot_joints = tuple(spec.joint_names)
        held = {h.name: h for h in self.held_joints}
        if self.action_dim + len(held) != len(robot_joints):
            covered = f"action size {self.action_dim}" + (f" + {len(held)} held joints" if held else "")
            raise mismatch("action_size", f"{covered} ≠ the robot's {len(robot_joints)} joints")
        missing = [j for j in robot_joints if j not in self.joint_names and j not in held]
        if missing:
            extra = [j for j in (*self.joint_names, *held) if j not in robot_joints]
            raise mismatch(
                "missing_joint",
                f"robot joint {missing[0]!r} is missing from the contract (missing: {', '.join(missing)}; "
                f"the contract has instead: {', '.join(extra)})",
            )
        driven_order = tuple(j for j in robot_joints if j not in held)
        for i, (ours, theirs) in enumerate(zip(self.joint_names, driven_order, strict=True)):
            if ours != theirs:
                raise mismatch(
                    "joint_order",
                    f"joint order differs at position {i}: the contract has {ours!r}, the robot has {theirs!r}",
                )
        for joint in self.held_joints:
            k = robot_joints.index(joint.name)
            lo, hi = float(spec.lower[k]), float(spec.upper[k])
            if not lo - _DT_TOLERANCE <= joint.position <= hi + _DT_TOLERANCE:
                raise mismatch(
                    "held_joint",
                    f"held joint {joint.name!r} position {joint.position!r} is outside the robot's limits [{lo:g}, {hi:g}]",
                )
        for label, values in (("kp", self.kp), ("kd", self.kd)):
            for name, value in zip(self.joint_names, values, strict=True):
                if not math.isfinite(value) or value < 0:
                    raise mismatch("gains", f"{label} of joint {name!r} is {value!r}; expected a finite number ≥ 0")
        for name, value in zip(self.joint_names, self.default_pos, strict=True):
            k = robot_joints.index(name)
            lo, hi = float(spec.lower[k]), float(spec.upper[k])
            if not lo - _DT_TOLERANCE <= value <= hi + _DT_TOLERANCE:
                raise mismatch(
                    "default_pos",
                    f"default_pos of joint {name!r} is {value!r}, outside the robot's limits [{lo:g}, {hi:g}]",
                )

    def robot_targets(self, spec: RobotSpec, driven_targets: Any, kp: Any = None, kd: Any = None) -> tuple[Any, ...]:
        """(q, kp, kd) of every robot joint, robot order: held joints at their hold position and gains.

        Driven joints take `driven_targets` (contract order) and `kp`/`kd` (default: the contract's gains).
        """
        import numpy as np

        index = {name: i for i, name in enumerate(spec.joint_names)}
        q, gains_p, gains_d = np.zeros(spec.n_joints), np.zeros(spec.n_joints), np.zeros(spec.n_joints)
        driven = [index[n] for n in self.joint_names]
        q[driven] = driven_targets
        gains_p[driven] = self.kp if kp is None else kp
        gains_d[driven] = self.kd if kd is None else kd
        for joint in self.held_joints:
            k = index[joint.name]
            q[k], gains_p[k], gains_d[k] = joint.position, joint.kp, joint.kd
        return q, gains_p, gains_d

    # ---- construction from a robot ------------------------------------------------------------------------
    @classmethod
    def for_robot(
        cls,
        spec: RobotSpec,
        terms: Sequence[ObservationTerm | str] | None = None,
        *,
        action_scale: float | Sequence[float] = 0.25,
        action_clip: float | None = 1.0,
        control_dt_s: float = 0.02,
        physics_dt_s: float = 0.002,
        history_fill: str = "current",
        gait_frequency_hz: float | None = None,
        command_ranges: Sequence[Sequence[float]] | None = None,
        held: Sequence[str] = (),
    ) -> PolicyContract:
        """A contract for `spec` with its joint order, default pose and default gains.

        `terms` defaults to LOCOMOTION_TERMS for floating-base robots and REACH_TERMS for fixed-base ones;
        names are accepted in place of ObservationTerm (scale 1, history 1). `held`: robot joints the policy
        does not drive, held at their default pose with their robot.yaml gains.
        """
        if terms is None:
            terms = LOCOMOTION_TERMS if spec.floating_base else REACH_TERMS
        scale = action_scale if isinstance(action_scale, Real) else tuple(action_scale)
        unknown = [name for name in held if name not in spec.joint_names]
        if unknown:
            raise ContractError.for_field(
                "held_joints", unknown, f"joints of {spec.name} ({', '.join(spec.joint_names)})"
            )
        driven = [i for i, name in enumerate(spec.joint_names) if name not in held]
        return cls(
            robot=spec.name,
            joint_names=tuple(spec.joint_names[i] for i in driven),
            observation=tuple(terms),
            action=ActionSpec(scale=scale, clip=action_clip),
            default_pos=tuple(float(spec.default_pose[i]) for i in driven),
            kp=tuple(float(spec.kp[i]) for i in driven),
            kd=tuple(float(spec.kd[i]) for i in driven),
            control_dt_s=control_dt_s,
            physics_dt_s=physics_dt_s,
            history_fill=history_fill,
            gait_frequency_hz=gait_frequency_hz,
            command_ranges=None if command_ranges is None else tuple(tuple(r) for r in command_ranges),
            held_joints=tuple(
                HeldJoint(spec.joint_names[i], float(spec.default_pose[i]), float(spec.kp[i]), float(spec.kd[i]))
                for i in range(spec.n_joints)
                if spec.joint_names[i] in held
            ),
        )

    # ---- serialisation ------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (lists, numbers, strings)."""

        def scale(value: float | tuple[float, ...]) -> float | list[float]:
            return list(value) if isinstance(value, tuple) else value

        return {
            "version": self.version,
            "robot": self.robot,
            "joint_names": list(self.joint_names),
            "observation": [{"name": t.name, "scale": scale(t.scale), "history": t.history} for t in self.observation],
            "action": {"scale": scale(self.action.scale), "clip": self.action.clip},
            "default_pos": list(self.default_pos),
            "kp": list(self.kp),
            "kd": list(self.kd),
            "control_dt_s": self.control_dt_s,
            "physics_dt_s": self.physics_dt_s,
            "history_fill": self.history_fill,
            **({} if self.gait_frequency_hz is None else {"gait_frequency_hz": self.gait_frequency_hz}),
            **({} if self.command_ranges is None else {"command_ranges": [list(r) for r in self.command_ranges]}),
            **(
                {
                    "held_joints": [
                        {"name": h.name, "position": h.position, "kp": h.kp, "kd": h.kd} for h in self.held_joints
                    ]
                }
                if self.held_joints
                else {}
            ),
        }

    @classmethod
    def from_dict(cls, data: Any, *, source: str | None = None) -> PolicyContract:
        """Parse `to_dict` output, refusing unknown or missing keys; errors name the field (and `source`)."""
        try:
            return cls._parse(data)
        except ContractError as err:
            if source and err.field is not None:
                raise ContractError.for_field(err.field, err.value, err.expected or "", source=source) from None
            raise

    @classmethod
    def _parse(cls, data: Any) -> PolicyContract:
        top = _mapping(data, "<contract>", required=_FIELD_NAMES, optional=_OPTIONAL_FIELDS, version_first=True)
        raw_terms = _sequence(top["observation"], "observation", "observation terms")
        terms = []
        for i, raw in enumerate(raw_terms):
            entry = _mapping(raw, f"observation[{i}]", required=("name",), optional=("scale", "history"))
            try:
                terms.append(ObservationTerm(**entry))
            except ContractError as err:
                raise err.nested(f"observation[{i}]") from None
        action = _mapping(top["action"], "action", required=("scale", "clip"))
        try:
            action_spec = ActionSpec(**action)
        except ContractError as err:
            raise err.nested("action") from None
        held = []
        for i, raw in enumerate(_sequence(top.get("held_joints", ()), "held_joints", "held joints")):
            entry = _mapping(raw, f"held_joints[{i}]", required=("name", "position", "kp", "kd"))
            try:
                held.append(HeldJoint(**entry))
            except ContractError as err:
                raise err.nested(f"held_joints[{i}]") from None
        return cls(**{**top, "observation": tuple(terms), "action": action_spec, "held_joints": tuple(held)})

    def to_json(self) -> str:
        """Compact JSON of `to_dict` (floats written exactly, so a round trip is bit-identical)."""
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_json(cls, text: str, *, source: str | None = None) -> PolicyContract:
        """Parse `to_json` output; malformed JSON raises ContractError naming `source`."""
        where = source or "policy contract"
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, TypeError) as err:
            raise ContractError(
                f"{where}: the contract JSON ({METADATA_KEY}) is corrupted ({err}); re-export it with physai export"
            ) from None
        return cls.from_dict(data, source=source)

    def to_onnx_metadata(self) -> dict[str, str]:
        """ONNX `metadata_props` entries: the JSON under METADATA_KEY plus human-readable summaries."""
        n = self.n_joints
        layout = ", ".join(
            f"{t.name}[{t.size(n)}]" + (f"x{t.history}" if t.history > 1 else "") for t in self.observation
        )
        return {
            METADATA_KEY: self.to_json(),
            "physai.contract_version": str(self.version),
            "physai.robot": self.robot,
            "physai.joint_names": ",".join(self.joint_names),
            "physai.obs_dim": str(self.obs_dim),
            "physai.action_dim": str(self.action_dim),
            "physai.observation": layout,
            "physai.control_dt_s": repr(self.control_dt_s),
        }

    @classmethod
    def from_onnx_metadata(cls, metadata: Mapping[str, str], *, source: str | None = None) -> PolicyContract:
        """Read a contract from ONNX metadata (onnx `metadata_props` as a dict, or onnxruntime's custom_metadata_map).

        Only METADATA_KEY is authoritative; the summary keys, when present, must agree with it.
        """
        where = source or "the ONNX metadata"
        if METADATA_KEY not in metadata:
            raise NoContractError(f"{where} has no physai contract (key {METADATA_KEY}); export it with physai export")
        contract = cls.from_json(metadata[METADATA_KEY], source=where)
        for key, value in contract.to_onnx_metadata().items():
            summary = key in ("physai.robot", "physai.obs_dim", "physai.action_dim")
            if summary and key in metadata and metadata[key] != value:
                raise ContractError(
                    f"{where}: metadata key {key} is {metadata[key]!r} but the contract ({METADATA_KEY}) "
                    f"gives {value!r}; the file was edited by hand, re-export it with physai export"
                )
        return contract


_OPTIONAL_FIELDS = ("history_fill", "gait_frequency_hz", "command_ranges", "held_joints")
_FIELD_NAMES = tuple(f.name for f in fields(PolicyContract) if f.name not in _OPTIONAL_FIELDS)


def _mapping(
    value: Any, where: str, *, required: Sequence[str], optional: Sequence[str] = (), version_first: bool = False
) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ContractError.for_field(where, value, "a JSON object")
    if version_first and "version" in value:
        # A newer format may have other keys; say "update physai" rather than "unknown key".
        _check_version(value["version"])
    allowed = (*required, *optional)
    prefix = "" if where.startswith("<") else f"{where}."
    for key in value:
        if key not in allowed:
            raise ContractError.for_field(f"{prefix}{key}", value[key], f"no such key (allowed: {', '.join(allowed)})")
    for key in required:
        if key not in value:
            raise ContractError.for_field(f"{prefix}{key}", None, "a value (the key is required)")
    return dict(value)
