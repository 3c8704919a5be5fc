"""Fault injection for the virtual motor bank: a lossy, misbehaving CAN bus and misbehaving motors.

    faults = FaultConfig.parse("drop_pct=5,silent_motor=left_knee")     # a ROS parameter / CLI string
    faults = FaultConfig.from_dict({"delay_s": 0.002, "start_s": 1.0})  # parsed YAML
    bank = VirtualMotorBank(config, sim, bus, faults, seed=0)

Every fault is off by default. Where a fault acts (see `physai.hil.virtual_motors`):

* bus faults on both directions (commands the bank receives, replies it sends): `drop_pct`, `burst_loss`
  / `burst_length`, `bus_off_at_s`;
* bus faults on replies only: `delay_s`, `duplicate_pct`, `reorder_pct`, `corrupt_pct` (a real CAN
  controller discards frames with a bad CRC; `corrupt_pct` models a wrong value that got past it, so the
  driver's plausibility checks are exercised);
* motor faults (by joint name): `frozen_motor`, `silent_motor`, `over_temperature_motor`,
  `error_code_motor`, `reboot_motor`.

All times are on the clock the bank is driven with (`process_frames(now_s)`: sim time or wall time, s).
Every fault except `bus_off_at_s` and the reboot is active in the window [`start_s`, `end_s`).
Errors name the key, the value and what was expected.
"""

from __future__ import annotations

import functools
import math
import types
from dataclasses import MISSING, asdict, dataclass, fields
from typing import Any, Union, get_args, get_origin, get_type_hints

from physai.errors import FieldError

__all__ = ["FaultConfig", "FaultConfigError"]


class FaultConfigError(FieldError):
    """A fault specification that cannot be used; the message names the key, the value and the expectation."""

    kind = "fault"

    def __init__(self, key: str, value: Any, expected: str) -> None:
        super().__init__("", key, value, expected)
        self.key = key


_PERCENT = ("drop_pct", "duplicate_pct", "reorder_pct", "corrupt_pct")
_MOTORS = ("frozen_motor", "silent_motor", "over_temperature_motor", "error_code_motor", "reboot_motor")
_NONE_WORDS = ("", "none", "null", "off")
_MODIFIERS = frozenset(
    {"start_s", "end_s", "over_temperature_c", "error_code", "burst_length", "reboot_at_s", "reboot_zero_shift_rad"}
)
"""Keys that only shape another fault; alone they inject nothing."""


@dataclass(frozen=True)
class FaultConfig:
    """What goes wrong on the virtual bus and in the virtual motors (all off by default)."""

    drop_pct: float = 0.0
    """Independent loss of each frame, both directions (%, 0–100)."""
    burst_loss: float = 0.0
    """Probability per frame (0–1) that a loss burst starts there (both directions, one shared burst)."""
    burst_length: int = 5
    """Frames lost per burst, counting the one that starts it (≥ 1)."""
    delay_s: float = 0.0
    """Replies are queued and put on the bus this much later (s, ≥ 0); they carry the state of when they were made."""
    duplicate_pct: float = 0.0
    """Replies sent twice (%, 0–100)."""
    reorder_pct: float = 0.0
    """Replies held back and sent right after the next reply, i.e. swapped with it (%, 0–100)."""
    corrupt_pct: float = 0.0
    """Replies with 1–3 random payload bits flipped (%, 0–100): plausible-looking but wrong values."""
    frozen_motor: str | None = None
    """Joint whose motor repeats its last reply (same bytes) forever, while still executing commands."""
    silent_motor: str | None = None
    """Joint whose motor never replies (its transmitter is dead); it still executes the commands it receives."""
    over_temperature_motor: str | None = None
    """Joint whose motor reports `over_temperature_c`."""
    over_temperature_c: float = 95.0
    """Temperature reported by `over_temperature_motor` (°C)."""
    error_code_motor: str | None = None
    """Joint whose motor reports `error_code`."""
    error_code: int = 1
    """MIT: reply error byte (1 over-temperature … 6, see `mit.MIT_ERROR_CODES`); Robstride: fault bits
    (`robstride.Fault`, 1..0x3F). The motor keeps executing commands; the driver must react."""
    bus_off_at_s: float | None = None
    """From this time on no frame passes in either direction (s); queued replies are lost. None: never."""
    reboot_motor: str | None = None
    """Joint whose motor resets at `reboot_at_s`: it leaves motor / run mode (zero torque), forgets its
    command, RAM parameters and its set-zero, and replies again only after ENTER / enable."""
    reboot_at_s: float | None = None
    """When `reboot_motor` resets (s); None: at `start_s`."""
    reboot_zero_shift_rad: float = 0.0
    """Change of the rebooted motor's zero (motor side, rad): its positions read this much higher afterwards."""
    start_s: float = 0.0
    """Time the faults become active (s); before it the bus and the motors are healthy."""
    end_s: float | None = None
    """Time the faults stop (s); None: never. A frozen motor unfreezes, a silent one talks again."""

    def __post_init__(self) -> None:
        """Convert values given as strings, check every range; raise FaultConfigError naming the first bad one."""
        for key, annotation in _field_types().items():
            object.__setattr__(self, key, _coerce(key, getattr(self, key), annotation))
        for key in _PERCENT:
            _check(key, getattr(self, key), 0.0 <= getattr(self, key) <= 100.0, "a number in [0, 100] (%)")
        _check("burst_loss", self.burst_loss, 0.0 <= self.burst_loss <= 1.0, "a probability in [0, 1]")
        _check("burst_length", self.burst_length, self.burst_length >= 1, "an integer ≥ 1 (frames)")
        _check("delay_s", self.delay_s, 0.0 <= self.delay_s < math.inf, "a finite number ≥ 0 (s)")
        _check("error_code", self.error_code, 1 <= self.error_code <= 0xFF, "an integer in [1, 255]")
        _check(
            "over_temperature_c",
            self.over_temperature_c,
            math.isfinite(self.over_temperature_c),
            "a finite number (°C)",
        )
        _check(
            "reboot_zero_shift_rad",
            self.reboot_zero_shift_rad,
            math.isfinite(self.reboot_zero_shift_rad),
            "a finite number (rad)",
        )
        _check("start_s", self.start_s, math.isfinite(self.start_s), "a finite number (s)")
        for key in ("bus_off_at_s", "reboot_at_s", "end_s"):
            value = getattr(self, key)
            _check(key, value, value is None or math.isfinite(value), "a finite number (s) or none")
        if self.end_s is not None and self.end_s <= self.start_s:
            raise FaultConfigError("end_s", self.end_s, f"a time after start_s = {self.start_s:g} (s), or none")
        for key in _MOTORS:
            value = getattr(self, key)
            _check(key, value, value is None or bool(value.strip()), "a joint name or none")

    # -- construction ------------------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Any) -> FaultConfig:
        """Build from a mapping of key → value (parsed YAML, or strings as in `parse`).

        Raises:
            FaultConfigError: Not a mapping, an unknown key (the message lists the known ones) or a bad value.
        """
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise FaultConfigError("<faults>", data, "a mapping of fault key → value")
        known = _field_types()
        for key, value in data.items():
            if key not in known:
                raise FaultConfigError(str(key), value, f"a known fault key ({', '.join(known)})")
        return cls(**data)

    @classmethod
    def parse(cls, text: str) -> FaultConfig:
        """Build from a compact string "key=value,key=value" (a ROS parameter); "" gives no faults.

        Example: "drop_pct=5,silent_motor=left_knee,start_s=2". Values "none" / "" set optional keys to None.

        Raises:
            FaultConfigError: An item without '=', a repeated or unknown key, or a bad value.
        """
        if not isinstance(text, str):
            raise FaultConfigError("<faults>", text, "a string like 'drop_pct=5,silent_motor=left_knee'")
        data: dict[str, str] = {}
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            key, sep, value = item.partition("=")
            key = key.strip()
            if not sep:
                raise FaultConfigError(key, None, "'key=value' (items separated by commas)")
            if key in data:
                raise FaultConfigError(key, value.strip(), "each key at most once")
            data[key] = value.strip()
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        """The non-default keys and their values (what `from_dict` reads back)."""
        defaults = {f.name: f.default for f in fields(self) if f.default is not MISSING}
        return {k: v for k, v in asdict(self).items() if v != defaults[k]}

    def to_string(self) -> str:
        """The compact form read by `parse` (non-default keys only; "" when nothing is injected)."""
        return ",".join(f"{k}={v}" for k, v in self.to_dict().items())

    # -- queries -------------------------------------------------------------------------------------------

    @property
    def injects(self) -> bool:
        """Whether any fault is configured (timing and magnitude keys alone inject nothing)."""
        return bool(self.to_dict().keys() - _MODIFIERS)

    def active(self, now_s: float) -> bool:
        """Whether the windowed faults act at `now_s` (start_s ≤ now_s < end_s)."""
        return self.start_s <= now_s and (self.end_s is None or now_s < self.end_s)

    def bus_off(self, now_s: float) -> bool:
        """Whether the bus is off at `now_s`."""
        return self.bus_off_at_s is not None and now_s >= self.bus_off_at_s

    @property
    def reboot_time_s(self) -> float | None:
        """When `reboot_motor` resets (s), or None without a reboot."""
        if self.reboot_motor is None:
            return None
        return self.start_s if self.reboot_at_s is None else self.reboot_at_s

    def motor_joints(self) -> dict[str, str]:
        """Fault key → joint name, for the motor faults that are set (to check against a robot)."""
        return {key: getattr(self, key) for key in _MOTORS if getattr(self, key) is not None}


def _check(key: str, value: Any, ok: bool, expected: str) -> None:
    if not ok:
        raise FaultConfigError(key, value, expected)


@functools.cache
def _field_types() -> dict[str, Any]:
    hints = get_type_hints(FaultConfig)
    return {f.name: hints[f.name] for f in fields(FaultConfig)}


def _coerce(key: str, value: Any, annotation: Any) -> Any:
    """Convert a YAML value or a string to the field's type; FaultConfigError naming `key` when it cannot."""
    optional = get_origin(annotation) in (Union, types.UnionType) and type(None) in get_args(annotation)
    base = next(a for a in get_args(annotation) if a is not type(None)) if optional else annotation
    if optional and (value is None or (isinstance(value, str) and value.strip().lower() in _NONE_WORDS)):
        return None
    if base is str:
        if not isinstance(value, str):
            raise FaultConfigError(key, value, "a joint name or none")
        return value.strip()
    if isinstance(value, bool):
        raise FaultConfigError(key, value, f"{'an integer' if base is int else 'a number'}, not a boolean")
    if base is int:
        try:
            number = int(value.strip(), 0) if isinstance(value, str) else value
        except ValueError:
            raise FaultConfigError(key, value, "an integer") from None
        if not isinstance(number, int):
            if isinstance(number, float) and number.is_integer():
                return int(number)
            raise FaultConfigError(key, value, "an integer")
        return number
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise FaultConfigError(key, value, "a number" + (" or none" if optional else "")) from None
    if not math.isfinite(number):
        raise FaultConfigError(key, value, "a finite number")
    return number
