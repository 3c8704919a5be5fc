"""Velocity commands from a keyboard, a joystick or a script: the mapping, without ROS.

physai.ros.teleop_node publishes what these produce as geometry_msgs/Twist on /cmd_vel (REP-103, base frame:
vx forward and vy left in m/s, yaw rate counter-clockwise in rad/s).

Keyboard: the keys of ROS's teleop_twist_keyboard (KEYBOARD_HELP). Joystick: sensor_msgs/Joy axes scaled to velocities while the deadman button is held (teleop_twist_joy); on
release one zero command, then nothing. Script: a timeline of (t, vx, vy, yaw rate), piecewise constant;
its last entry holds (end a script with a zero entry to stop).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

KEYBOARD_HELP = """\
Moving around:        Holonomic (shift):     t/b: up/down (ignored: a walking robot has no z)
   u    i    o           U    I    O          q/z: all speeds x1.1 / x0.9
   j    k    l           J    K    L          w/x: linear speed x1.1 / x0.9
   m    ,    .           M    <    >          e/c: angular speed x1.1 / x0.9
any other key (k, space): stop"""
"""The key map, as teleop_twist_keyboard prints it."""

MOVE_KEYS: dict[str, tuple[int, int, int]] = {
    "i": (1, 0, 0),
    "o": (1, 0, -1),
    "j": (0, 0, 1),
    "l": (0, 0, -1),
    "u": (1, 0, 1),
    ",": (-1, 0, 0),
    ".": (-1, 0, 1),
    "m": (-1, 0, -1),
    "O": (1, -1, 0),
    "I": (1, 0, 0),
    "J": (0, 1, 0),
    "L": (0, -1, 0),
    "U": (1, 1, 0),
    "<": (-1, 0, 0),
    ">": (-1, -1, 0),
    "M": (-1, 1, 0),
}
"""Key → (x, y, yaw) directions, as teleop_twist_keyboard (its '.' and 'm' turn as a car reversing)."""
SPEED_KEYS: dict[str, tuple[float, float]] = {
    "q": (1.1, 1.1),
    "z": (0.9, 0.9),
    "w": (1.1, 1.0),
    "x": (0.9, 1.0),
    "e": (1.0, 1.1),
    "c": (1.0, 0.9),
}
"""Key → (linear, angular) speed factors."""
IGNORED_KEYS = ("t", "b")
"""teleop_twist_keyboard's up/down: no vertical velocity for a walking robot."""


class KeyboardTeleop:
    """The teleop_twist_keyboard state machine: keys in, the current command out."""

    def __init__(self, speed_m_s: float = 0.5, turn_rad_s: float = 1.0) -> None:
        self.speed_m_s, self.turn_rad_s = speed_m_s, turn_rad_s
        """Linear (m/s) and angular (rad/s) speed of a full key press."""
        self._direction = (0, 0, 0)

    def press(self, key: str) -> np.ndarray:
        """Apply one key; return the command (vx m/s, vy m/s, yaw rate rad/s)."""
        if key in MOVE_KEYS:
            self._direction = MOVE_KEYS[key]
        elif key in SPEED_KEYS:
            linear, angular = SPEED_KEYS[key]
            self.speed_m_s *= linear
            self.turn_rad_s *= angular
        elif key not in IGNORED_KEYS:
            self._direction = (0, 0, 0)
        return self.command

    @property
    def command(self) -> np.ndarray:
        """The current command (vx m/s, vy m/s, yaw rate rad/s)."""
        x, y, yaw = self._direction
        return np.array([x * self.speed_m_s, y * self.speed_m_s, yaw * self.turn_rad_s])


@dataclass(frozen=True)
class JoyMapping:
    """sensor_msgs/Joy → command, as teleop_twist_joy: axes × scales while the deadman button is held."""

    deadman_button: int = 4
    """Button index that must be held (4: LB on an Xbox pad); -1: no deadman (always enabled)."""
    axis_vx: int = 1
    """Axis of forward velocity (left stick up/down)."""
    axis_vy: int = 0
    """Axis of lateral velocity (left stick left/right)."""
    axis_yaw: int = 3
    """Axis of yaw rate (right stick left/right)."""
    scale_vx_m_s: float = 0.5
    """Forward velocity at full deflection (m/s)."""
    scale_vy_m_s: float = 0.3
    """Lateral velocity at full deflection (m/s)."""
    scale_yaw_rad_s: float = 1.0
    """Yaw rate at full deflection (rad/s)."""

    def command(self, axes: Sequence[float], buttons: Sequence[int]) -> np.ndarray | None:
        """The command for one Joy message, or None when the deadman is released (or its index is missing)."""
        if self.deadman_button >= 0 and not (self.deadman_button < len(buttons) and buttons[self.deadman_button]):
            return None

        def axis(i: int) -> float:
            value = float(axes[i]) if 0 <= i < len(axes) else 0.0
            return value if np.isfinite(value) else 0.0

        return np.array(
            [
                axis(self.axis_vx) * self.scale_vx_m_s,
                axis(self.axis_vy) * self.scale_vy_m_s,
                axis(self.axis_yaw) * self.scale_yaw_rad_s,
            ]
        )


class TeleopScriptError(ValueError):
    """A teleop script that cannot be used; the message names the file, the entry and what was expected."""


@dataclass(frozen=True)
class CommandTimeline:
    """Piecewise-constant commands: from each entry's `t_s` on, its command holds until the next entry."""

    times_s: np.ndarray
    """Start of each entry (s), increasing, (k,)."""
    commands: np.ndarray
    """(vx m/s, vy m/s, yaw rate rad/s) of each entry, (k, 3)."""

    @property
    def end_s(self) -> float:
        """Time of the last entry (s); its command holds for ever (end scripts with a zero entry to stop)."""
        return float(self.times_s[-1])

    def at(self, t_s: float) -> np.ndarray:
        """The command at time `t_s` (s) since the script started; zeros before the first entry."""
        k = int(np.searchsorted(self.times_s, t_s, side="right")) - 1
        return np.zeros(3) if k < 0 else self.commands[k].copy()

    @classmethod
    def load(cls, path: str | Path) -> CommandTimeline:
        """Read a YAML list of {t: s, vx: m/s, vy: m/s, yaw_rate: rad/s} (missing velocities are 0)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"teleop script {path} does not exist")
        try:
            data = yaml.safe_load(path.read_text())
        except yaml.YAMLError as err:
            raise TeleopScriptError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None
        return cls.from_entries(data, str(path))

    @classmethod
    def from_entries(cls, entries: object, source: str = "<script>") -> CommandTimeline:
        """Build from [{t, vx, vy, yaw_rate}, ...]; TeleopScriptError naming a bad entry."""
        if isinstance(entries, dict) and "commands" in entries:
            entries = entries["commands"]
        if not isinstance(entries, list) or not entries:
            raise TeleopScriptError(f"{source}: expected a non-empty list of {{t, vx, vy, yaw_rate}} entries")
        times, commands = [], []
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or "t" not in entry:
                raise TeleopScriptError(f"{source}: entry {i} is {entry!r}; expected a mapping with t (s)")
            unknown = set(entry) - {"t", "vx", "vy", "yaw_rate"}
            if unknown:
                raise TeleopScriptError(
                    f"{source}: entry {i} has unknown keys {sorted(unknown)}; expected t, vx, vy, yaw_rate"
                )
            row = []
            for key in ("t", "vx", "vy", "yaw_rate"):
                value = entry.get(key, 0.0)
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
                    raise TeleopScriptError(f"{source}: entry {i} {key} is {value!r}; expected a finite number")
                row.append(float(value))
            if times and row[0] <= times[-1]:
                raise TeleopScriptError(f"{source}: entry {i} t is {row[0]}; expected > {times[-1]} (increasing)")
            times.append(row[0])
            commands.append(row[1:])
        return cls(np.array(times), np.array(commands))
