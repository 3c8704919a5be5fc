"""VirtualMotorBank: simulated MIT and Robstride motors that speak the real bytes on a python-can bus.

The plant is a MuJoCo `Simulator`; the bank stands where the motors would be, so the real driver
(`physai.drivers.can_bus`) runs unchanged against it (hardware-in-the-loop without hardware):

    bank = VirtualMotorBank(hw, sim, open_link(hw, interface="datagram"), FaultConfig.parse("drop_pct=5"))
    while running:
        bank.process_frames(now_s)   # take in host frames, answer them (one batch of replies per bus)
        bank.step(n)                 # apply what the motors were told, advance the plant n physics steps

Per motor (one per joint of `config`, motor side = what the drive sees, see `physai.drivers.config`):

* MIT (standard id = can_id, 8 bytes): ENTER_MOTOR_MODE enables, EXIT_MOTOR_MODE disables, SET_ZERO makes
  the current position read 0, anything else is an impedance command; every frame is answered with an
  8-byte CubeMars reply to id 0 (`mit.pack_reply`: position, velocity, torque, temperature, error).
* Robstride (29-bit id type | data2 | target): type 1 motion control, 3 enable, 4 stop (byte 0 = 1 also
  clears a watchdog trip), 6 set zero, 18 parameter write (run_mode 0x7005, canTimeout 0x7028, any other
  writable parameter is stored) are answered with type-2 feedback to the host id; type 17 reads are
  answered with a type-17 value (`robstride.encode_param_value`). With canTimeout > 0 a motor that hears
  no frame for that long leaves run mode (feedback mode RESET, zero torque) until it is enabled again.

A motor applies torque only while enabled (MIT motor mode; Robstride enabled in run_mode 0) and after a
command received since it was enabled; otherwise kp = kd = τ = 0, like a real drive that is off (it does
not hold position). Enabling or disabling forgets the stored command. Set-zero offsets live in RAM (lost
at a reboot). Frames the bank sent itself (udp_multicast echoes them) are recognised and ignored: MIT
frames to id 0, Robstride type-2 feedback and type-17 replies; so are frames for ids it does not own.
Undecodable frames for its motors are counted (`stats["decode_errors"]`), never raised.

Time: `process_frames(now_s)` takes the clock the faults are scheduled on (wall or sim time, s; default
the sim time). Watchdogs, reboots, bus-off and delayed replies advance only in `process_frames`.
Fault injection (`physai.hil.faults.FaultConfig`) uses one `random.Random(seed)`, drawn only for
faults that are configured and active, so a run is reproducible from (config, faults, seed, frames).

No ROS here: a ROS node (`physai.ros.motor_sim_node`) wraps this class.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field
from typing import Any

import can
import numpy as np

from physai.drivers import mit, robstride
from physai.drivers.bus import feedback_to_motor, to_joint
from physai.drivers.config import HardwareConfig, MotorConfig
from physai.drivers.frame import CanFrame, FrameBatch
from physai.drivers.limits import CodecError, MotorLimits
from physai.drivers.link import FrameLink, as_link
from physai.hil.faults import FaultConfig, FaultConfigError
from physai.robot.command import JointCommand
from physai.sim.simulator import Simulator

try:  # the compiled steady-state path; frame by frame (the reference) without it
    from physai.drivers import _cancore
except ImportError:  # pragma: no cover - a source tree without a build
    _cancore = None

__all__ = ["MIT_HOST_ID", "VirtualMotorBank", "VirtualMotorState"]

MIT_HOST_ID = 0
"""Arbitration id MIT replies are sent to (the host)."""
DEFAULT_TEMPERATURE_C = 35.0
"""Temperature a healthy virtual motor reports (°C)."""
DEFAULT_BUS_VOLTAGE_V = 48.0
"""VBUS (0x701C) a virtual Robstride motor reports (V)."""

_COUNTERS = (
    "frames_received",
    "frames_sent",
    "frames_ignored",
    "decode_errors",
    "unsupported",
    "commands_received",
    "commands_applied",
    "rx_dropped",
    "tx_dropped",
    "tx_suppressed",
    "tx_duplicated",
    "tx_corrupted",
    "tx_delayed",
    "tx_reordered",
    "bus_off_dropped",
    "send_errors",
    "watchdog_trips",
    "reboots",
)


_HOST_TYPES = frozenset(
    int(t)
    for t in (
        robstride.CommType.MOTION_CONTROL,
        robstride.CommType.ENABLE,
        robstride.CommType.STOP,
        robstride.CommType.SET_ZERO,
        robstride.CommType.PARAM_READ,
        robstride.CommType.PARAM_WRITE,
    )
)
"""Robstride communication types a virtual motor acts on (others are counted as unsupported)."""
_MECH_POS, _MECH_VEL, _VBUS = 0x7019, 0x701B, 0x701C
"""Read-only Robstride parameters the bank answers from the plant (mechPos, mechVel, VBUS)."""


@dataclass(frozen=True)
class VirtualMotorState:
    """A snapshot of one virtual motor (for tests and diagnostics); motor side, SI units."""

    joint: str
    """Joint the motor drives."""
    protocol: str
    """mit | robstride."""
    can_id: int
    """Motor CAN id."""
    enabled: bool
    """MIT motor mode / Robstride enabled (run state)."""
    applying_torque: bool
    """Whether `step` applies its command (enabled, commanded since, Robstride run_mode 0)."""
    command: mit.MitCommand | None
    """Last command received since enabling (motor side, in the motor's own zero), or None."""
    last_command_s: float | None
    """Time its last command frame was received (s), or None."""
    last_frame_s: float | None
    """Time any frame for it was last received (s), or None."""
    run_mode: int
    """Robstride `run_mode` (0 operation); 0 for MIT."""
    can_timeout_s: float
    """Robstride canTimeout watchdog (s), 0 = off."""
    watchdog_tripped: bool
    """The watchdog stopped the motor (until enable, or stop with clear-faults)."""
    awaiting_enable: bool
    """Rebooted and silent until ENTER / enable."""
    zero_shift_rad: float
    """Added to the position it reports (set-zero / reboot), motor side (rad)."""


@dataclass
class _Motor:
    """Mutable state of one virtual motor."""

    index: int
    config: MotorConfig
    limits: MotorLimits
    host_id: int
    bus: int
    enabled: bool = False
    command: mit.MitCommand | None = None
    last_command_s: float | None = None
    last_frame_s: float | None = None
    zero_shift_rad: float = 0.0
    watchdog_tripped: bool = False
    awaiting_enable: bool = False
    params: dict[int, int | float] = field(default_factory=dict)
    last_reply: CanFrame | None = None
    frozen_reply: CanFrame | None = None

    @property
    def is_mit(self) -> bool:
        return self.config.protocol == "mit"

    @property
    def run_mode(self) -> int:
        return int(self.params.get(robstride.RUN_MODE_INDEX, 0))

    @property
    def can_timeout_s(self) -> float:
        return int(self.params.get(robstride.CAN_TIMEOUT_INDEX, 0)) / robstride.CAN_TIMEOUT_TICKS_PER_S

    @property
    def applying_torque(self) -> bool:
        return self.enabled and self.command is not None and (self.is_mit or self.run_mode == 0)

    def set_enabled(self, enabled: bool) -> None:
        """Enter / leave command mode; the stored command is forgotten either way."""
        self.enabled = enabled
        self.command = None


class VirtualMotorBank:
    """One virtual motor per joint of a HardwareConfig, answering on a python-can bus from a Simulator."""

    def __init__(
        self,
        config: HardwareConfig,
        sim: Simulator,
        bus: FrameLink | can.BusABC,
        faults: FaultConfig | None = None,
        seed: int = 0,
        temperature_c: float = DEFAULT_TEMPERATURE_C,
    ) -> None:
        """Create the bank (every motor disabled, never commanded).

        Args:
            config: The actuators, in `sim.spec` joint order (as `HardwareConfig.load` returns them).
            sim: The plant; the bank calls its `apply` and `step` and reads its state.
            bus: The FrameLink of `config`'s buses (`physai.drivers.link.open_link`), or one python-can bus for a
                one-bus config; shared with the host.
            faults: Faults to inject; None injects none.
            seed: Seed of the fault-injection random stream.
            temperature_c: Temperature healthy motors report (°C).

        Raises:
            ValueError: `config` does not match the sim's joints.
            FaultConfigError: A motor fault names a joint the config does not have, or a Robstride
                `error_code` does not fit its 6 fault bits.
        """
        joints = tuple(m.joint for m in config.motors)
        if joints != tuple(sim.spec.joint_names):
            raise ValueError(
                f"hardware config {config.source} drives joints {list(joints)}; expected the simulator's "
                f"joints in order {list(sim.spec.joint_names)}"
            )
        self.config, self.sim = config, sim
        self.link = as_link(bus, config)
        self.faults = faults if faults is not None else FaultConfig()
        self.temperature_c = float(temperature_c)
        self._rng = random.Random(seed)
        buses = config.bus_index.tolist()
        self._motors = [_Motor(i, m, m.limits, config.host_id, buses[i]) for i, m in enumerate(config.motors)]
        self._by_joint = {m.config.joint: m for m in self._motors}
        self._mit = {(m.bus, m.config.can_id): m for m in self._motors if m.is_mit}
        self._robstride = {(m.bus, m.config.can_id): m for m in self._motors if not m.is_mit}
        self._outbox: list[tuple[int, CanFrame]] = []  # (bus, frame) replies of this drain
        # tables of the compiled steady-state path (`_answer_commands`), motor order
        self._faulty = self.faults != FaultConfig()
        self._mit_lut = np.full((len(config.buses), 256), -1, np.int64)
        self._rs_lut = np.full((len(config.buses), 256), -1, np.int64)
        for (b, can_id), m in self._mit.items():
            self._mit_lut[b, can_id] = m.index
        for (b, can_id), m in self._robstride.items():
            self._rs_lut[b, can_id] = m.index
        self._can_id = np.array([m.config.can_id for m in self._motors], np.int64)
        self._is_robstride = np.array([not m.is_mit for m in self._motors])
        ranges = [
            ((x.p_min, x.p_max), (x.v_min, x.v_max), (x.kp_min, x.kp_max), (x.kd_min, x.kd_max), (x.t_min, x.t_max))
            for x in (m.limits for m in self._motors)
        ]
        self._command_lo = np.array([[r[f][0] for r in ranges] for f in range(5)])
        self._command_hi = np.array([[r[f][1] for r in ranges] for f in range(5)])
        for key, joint in self.faults.motor_joints().items():
            if joint not in self._by_joint:
                raise FaultConfigError(key, joint, f"a joint of the hardware config ({', '.join(joints)})")
        culprit = self._by_joint.get(self.faults.error_code_motor or "")
        if culprit is not None and not culprit.is_mit and self.faults.error_code > 0x3F:
            raise FaultConfigError("error_code", self.faults.error_code, "Robstride fault bits in [1, 0x3F]")
        self._counters = dict.fromkeys(_COUNTERS, 0)
        self._feedback: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._delayed: list[tuple[float, int, int, CanFrame]] = []  # (due s, sequence, bus, frame)
        self._sequence = 0
        self._held: tuple[int, CanFrame] | None = None
        self._last_answer: tuple[np.ndarray, FrameBatch] = (np.empty(0, np.int64), FrameBatch.empty())
        self._burst_left = 0
        self._bus_off = False
        self._rebooted = False
        self._now_s = float(sim.data.time)

    # -- public --------------------------------------------------------------------------------------------

    @property
    def stats(self) -> dict[str, Any]:
        """Counters and per-motor command times (a fresh dict).

        Counters: frames_received / frames_sent / frames_ignored (replies, own echoes, other ids),
        decode_errors, unsupported, commands_received (command frames stored), commands_applied (`step`
        calls), rx_dropped / tx_dropped (drop and burst faults), tx_suppressed (silent or rebooted motor),
        tx_duplicated, tx_corrupted, tx_delayed, tx_reordered, bus_off_dropped, send_errors, watchdog_trips,
        reboots. `last_command_s`: joint → time its last command frame was received (s), or None.
        """
        out: dict[str, Any] = dict(self._counters)
        out["last_command_s"] = {m.config.joint: m.last_command_s for m in self._motors}
        return out

    def motor_states(self) -> dict[str, VirtualMotorState]:
        """A snapshot of every motor, by joint name."""
        return {
            m.config.joint: VirtualMotorState(
                joint=m.config.joint,
                protocol=m.config.protocol,
                can_id=m.config.can_id,
                enabled=m.enabled,
                applying_torque=m.applying_torque,
                command=m.command,
                last_command_s=m.last_command_s,
                last_frame_s=m.last_frame_s,
                run_mode=m.run_mode,
                can_timeout_s=m.can_timeout_s,
                watchdog_tripped=m.watchdog_tripped,
                awaiting_enable=m.awaiting_enable,
                zero_shift_rad=m.zero_shift_rad,
            )
            for m in self._motors
        }

    def process_frames(self, now_s: float | None = None) -> int:
        """Advance scheduled events to `now_s`, take in every frame waiting on every bus and answer it.

        The replies (and delayed ones now due) go out as one batch.

        Args:
            now_s: The fault clock (s); None uses the simulator's time.

        Returns:
            Number of frames drained from the bus (including ignored and lost ones).
        """
        now = float(self.sim.data.time) if now_s is None else float(now_s)
        self._now_s = now
        self._advance(now)
        self._flush_delayed(now)
        batch = self.link.receive_batch()
        self._counters["frames_received"] += len(batch)
        if len(batch) and not self._answer_commands(batch, now):
            for bus, frame in batch.frames():
                self._receive(bus, frame, now)
        self._flush_outbox()
        return len(batch)

    def _answer_commands(self, batch: FrameBatch, now: float) -> bool:
        """Answer a batch made only of impedance commands in one compiled pass; False (nothing done) otherwise.

        The steady state of a control loop (no fault acting at `now`: none configured, or outside the faults'
        [start_s, end_s) window; nothing delayed or held back; every frame an MIT or Robstride type-1 command
        to one of our motors) costs one C call (`_cancore.answer`) instead of a Python pass per frame; the
        commands stored and the bytes answered are the per-frame path's (tested). Outside the window the
        per-frame path draws no random numbers either, so a seed gives the same faults on both paths.
        """
        faulty = self._faulty and self.faults.active(now)
        if _cancore is None or faulty or self._delayed or self._held is not None or self._bus_off:
            return False
        m, motors = len(batch), self._motors
        joint, command = np.empty(m, np.int64), np.empty((5, m))
        reply_ids, replies = np.empty(m, np.uint32), np.empty((m, 8), np.uint8)
        position, velocity, torque = self._motor_feedback()
        arrays = (batch.ids, batch.extended, batch.dlc, batch.data, batch.bus)
        if not _cancore.answer(
            m,
            *(np.ascontiguousarray(a) for a in arrays),
            len(self.config.buses),
            self._mit_lut,
            self._rs_lut,
            self._command_lo,
            self._command_hi,
            self._is_robstride,
            np.ascontiguousarray(position, np.float64),
            np.ascontiguousarray(velocity, np.float64),
            np.ascontiguousarray(torque, np.float64),
            np.array([x.zero_shift_rad for x in motors]),
            np.array([x.enabled for x in motors]),
            np.array([x.awaiting_enable for x in motors]),
            np.array([x.host_id for x in motors], np.uint8),
            self._can_id,
            float(self.temperature_c),
            joint,
            command,
            reply_ids,
            replies,
        ):
            return False
        for j, values in zip(joint.tolist(), command.T.tolist(), strict=True):
            motor = motors[j]
            motor.command = mit.MitCommand(*values)
            motor.last_command_s = motor.last_frame_s = now
            motor.last_reply = None  # its latest reply is in self._last_answer (built only if a freeze needs it)
        self._counters["commands_received"] += m
        answer = FrameBatch(reply_ids, batch.extended.copy(), np.full(m, 8, np.uint8), replies, batch.bus.copy())
        self._last_answer = (joint, answer)
        sent = self.link.send_batch(answer)
        self._counters["frames_sent"] += sent
        self._counters["send_errors"] += m - sent
        return True

    def _flush_outbox(self) -> None:
        if self._outbox:
            sent = self.link.send(self._outbox)
            self._counters["frames_sent"] += sent
            self._counters["send_errors"] += len(self._outbox) - sent
            self._outbox = []

    def joint_command(self) -> JointCommand:
        """What `step` applies to the plant now, joint side (zero torque for motors that do not apply one)."""
        n = len(self._motors)
        q, dq, kp, kd, tau = (np.zeros(n) for _ in range(5))
        for m in self._motors:
            if m.applying_torque and m.command is not None:
                c, i = m.command, m.index
                q[i], dq[i], kp[i], kd[i], tau[i] = c.position - m.zero_shift_rad, c.velocity, c.kp, c.kd, c.torque_ff
        return to_joint(self.config, JointCommand(q, dq, kp, kd, tau))

    def step(self, n: int = 1) -> None:
        """Apply the motors' commands (`joint_command`) to the plant and advance it `n` physics steps."""
        self.sim.apply(self.joint_command())
        self.sim.step(n)
        self._counters["commands_applied"] += 1
        self._feedback = None

    # -- receive -------------------------------------------------------------------------------------------

    def _receive(self, bus: int, msg: CanFrame, now: float) -> None:
        motor = self._addressee(bus, msg)
        if motor is None:
            self._counters["frames_ignored"] += 1
            return
        if self._bus_off:
            self._counters["bus_off_dropped"] += 1
            return
        if self._lost(now):
            self._counters["rx_dropped"] += 1
            return
        motor.last_frame_s = now
        if motor.is_mit:
            self._handle_mit(motor, msg.data, now)
        else:
            self._handle_robstride(motor, msg.arbitration_id, msg.data, now)

    def _addressee(self, bus: int, msg: CanFrame) -> _Motor | None:
        """The motor a host frame on `bus` is for; None for replies (own echoes included) and other ids."""
        if not msg.is_extended_id:
            return None if msg.arbitration_id == MIT_HOST_ID else self._mit.get((bus, msg.arbitration_id))
        comm_type, _, target = robstride.split_arbitration_id(msg.arbitration_id)
        if comm_type in (robstride.CommType.FEEDBACK, robstride.CommType.FAULT_FEEDBACK):
            return None
        if comm_type == robstride.CommType.PARAM_READ and target == self.config.host_id:
            return None  # a type-17 reply (ours, echoed, or another motor's)
        return self._robstride.get((bus, target))

    def _handle_mit(self, motor: _Motor, data: bytes, now: float) -> None:
        try:
            decoded = mit.decode_host_frame(data, motor.limits)
        except CodecError:
            self._counters["decode_errors"] += 1
            return
        if decoded is mit.MitSpecial.ENTER_MOTOR_MODE:
            motor.set_enabled(True)
            motor.awaiting_enable = False
        elif decoded is mit.MitSpecial.EXIT_MOTOR_MODE:
            motor.set_enabled(False)
        elif decoded is mit.MitSpecial.SET_ZERO:
            self._set_zero(motor)
        else:
            self._store(motor, decoded, now)
        self._send_reply(motor, now)

    def _handle_robstride(self, motor: _Motor, arbitration_id: int, data: bytes, now: float) -> None:
        comm_type = robstride.split_arbitration_id(arbitration_id)[0]
        if comm_type not in _HOST_TYPES:
            self._counters["unsupported"] += 1
            return
        try:
            message = robstride.decode_frame(arbitration_id, data, motor.limits)
        except CodecError:
            self._counters["decode_errors"] += 1
            return
        if isinstance(message, robstride.MotionCommand):
            command = mit.MitCommand(message.position, message.velocity, message.kp, message.kd, message.torque_ff)
            self._store(motor, command, now)
        elif isinstance(message, robstride.ParamRead):
            motor.host_id = message.host_id
            self._send_param_value(motor, message.index, now)
            return
        else:
            motor.host_id = message.host_id
            if isinstance(message, robstride.Enable):
                motor.set_enabled(True)
                motor.awaiting_enable = False
                motor.watchdog_tripped = False
            elif isinstance(message, robstride.Stop):
                motor.set_enabled(False)
                if message.clear_faults:
                    motor.watchdog_tripped = False
            elif isinstance(message, robstride.SetZero):
                self._set_zero(motor)
            elif isinstance(message, robstride.ParamWrite):
                spec = robstride.PARAMS.get(message.index)
                if spec is None or not spec.writable or message.value is None:
                    self._counters["unsupported"] += 1
                else:
                    motor.params[message.index] = message.value
        self._send_reply(motor, now)

    def _store(self, motor: _Motor, command: mit.MitCommand, now: float) -> None:
        motor.command = command
        motor.last_command_s = now
        self._counters["commands_received"] += 1

    def _set_zero(self, motor: _Motor) -> None:
        raw = self._motor_feedback()[0][motor.index]
        motor.zero_shift_rad = -float(raw)

    # -- time-driven events --------------------------------------------------------------------------------

    def _advance(self, now: float) -> None:
        if not self._bus_off and self.faults.bus_off(now):
            self._bus_off = True
            self._counters["bus_off_dropped"] += len(self._delayed) + (self._held is not None)
            self._delayed.clear()
            self._held = None
        reboot_at = self.faults.reboot_time_s
        if reboot_at is not None and not self._rebooted and now >= reboot_at:
            self._rebooted = True
            self._reboot(self._by_joint[str(self.faults.reboot_motor)])
        for m in self._motors:
            timeout = m.can_timeout_s
            if m.enabled and timeout > 0 and m.last_frame_s is not None and now - m.last_frame_s > timeout:
                m.set_enabled(False)
                m.watchdog_tripped = True
                self._counters["watchdog_trips"] += 1

    def _reboot(self, motor: _Motor) -> None:
        motor.set_enabled(False)
        motor.awaiting_enable = True
        motor.watchdog_tripped = False
        motor.params.clear()
        motor.zero_shift_rad = self.faults.reboot_zero_shift_rad
        motor.last_reply = motor.frozen_reply = None
        self._counters["reboots"] += 1

    # -- replies -------------------------------------------------------------------------------------------

    def _motor_feedback(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Motor-side (position before the zero shift, velocity, torque), cached until the next step."""
        if self._feedback is None:
            state = self.sim.state()
            self._feedback = feedback_to_motor(self.config, state.joint_pos, state.joint_vel, state.joint_torque)
        return self._feedback

    def _health(self, motor: _Motor, now: float) -> tuple[float, int]:
        """(temperature °C, error code / fault bits) the motor reports at `now`."""
        active = self.faults.active(now)
        joint = motor.config.joint
        hot = active and self.faults.over_temperature_motor == joint
        broken = active and self.faults.error_code_motor == joint
        return (self.faults.over_temperature_c if hot else self.temperature_c), (
            self.faults.error_code if broken else 0
        )

    def _state_frame(self, motor: _Motor, now: float) -> CanFrame:
        position, velocity, torque = self._motor_feedback()
        i, cfg = motor.index, motor.config
        p, v, t = float(position[i]) + motor.zero_shift_rad, float(velocity[i]), float(torque[i])
        temperature, error = self._health(motor, now)
        if motor.is_mit:
            data = mit.pack_reply(cfg.can_id, p, v, t, motor.limits, temperature_c=temperature, error=error)
            return CanFrame(MIT_HOST_ID, data)
        mode = robstride.MotorMode.RUN if motor.enabled else robstride.MotorMode.RESET
        return robstride.encode_feedback(
            cfg.can_id, motor.host_id, p, v, t, temperature, motor.limits, faults=robstride.Fault(error), mode=mode
        )

    def _send_reply(self, motor: _Motor, now: float) -> None:
        self._transmit(motor, self._state_frame(motor, now), now)

    def _send_param_value(self, motor: _Motor, index: int, now: float) -> None:
        spec = robstride.PARAMS.get(index)
        if spec is None:
            self._counters["unsupported"] += 1
            return
        value: int | float
        if index == _MECH_POS:
            value = float(self._motor_feedback()[0][motor.index]) + motor.zero_shift_rad
        elif index == _MECH_VEL:
            value = float(self._motor_feedback()[1][motor.index])
        elif index == _VBUS:
            value = DEFAULT_BUS_VOLTAGE_V
        else:
            value = motor.params.get(index, 0.0 if spec.dtype is robstride.ParamType.FLOAT else 0)
        frame = robstride.encode_param_value(motor.config.can_id, motor.host_id, index, value)
        self._transmit(motor, frame, now, state=False)

    def _transmit(self, motor: _Motor, frame: CanFrame, now: float, *, state: bool = True) -> None:
        """Motor faults (rebooted, silent, frozen), then the bus faults, then onto the bus."""
        active = self.faults.active(now)
        joint = motor.config.joint
        if motor.awaiting_enable or (active and self.faults.silent_motor == joint):
            self._counters["tx_suppressed"] += 1
            return
        if active and self.faults.frozen_motor == joint:
            if motor.frozen_reply is None:
                motor.frozen_reply = motor.last_reply or self._answered(motor) or frame
            frame = motor.frozen_reply
        else:
            motor.frozen_reply = None
            if state:
                motor.last_reply = frame
        if self._bus_off:
            self._counters["bus_off_dropped"] += 1
            return
        if self._lost(now):
            self._counters["tx_dropped"] += 1
            return
        copies = 1
        if active:
            if self._chance(self.faults.corrupt_pct):
                frame = self._corrupt(frame)
                self._counters["tx_corrupted"] += 1
            if self._chance(self.faults.duplicate_pct):
                copies = 2
                self._counters["tx_duplicated"] += 1
        for _ in range(copies):
            if active and self.faults.delay_s > 0:
                self._sequence += 1
                heapq.heappush(self._delayed, (now + self.faults.delay_s, self._sequence, motor.bus, frame))
                self._counters["tx_delayed"] += 1
            else:
                self._emit(motor.bus, frame, now)

    def _answered(self, motor: _Motor) -> CanFrame | None:
        """`motor`'s reply in the last batch the compiled path answered, if it had one there."""
        joint, answer = self._last_answer
        rows = np.flatnonzero(joint == motor.index)
        return answer.slice(int(rows[-1]), int(rows[-1]) + 1).frames()[0][1] if rows.size else None

    def _flush_delayed(self, now: float) -> None:
        while self._delayed and self._delayed[0][0] <= now:
            _, _, bus, frame = heapq.heappop(self._delayed)
            self._emit(bus, frame, now)

    def _emit(self, bus: int, frame: CanFrame, now: float) -> None:
        """Put a frame in `bus`'s outgoing batch, applying the reorder fault (hold one back, send it after the next)."""
        outbox = self._outbox
        if self._held is not None:
            held, self._held = self._held, None
            outbox += [(bus, frame), held]
        elif self.faults.active(now) and self._chance(self.faults.reorder_pct):
            self._held = (bus, frame)
            self._counters["tx_reordered"] += 1
        else:
            outbox.append((bus, frame))

    # -- randomness ----------------------------------------------------------------------------------------

    def _chance(self, pct: float) -> bool:
        """True with probability pct %; draws from the stream only when pct > 0."""
        return pct > 0 and self._rng.random() * 100.0 < pct

    def _lost(self, now: float) -> bool:
        """Whether a frame (either direction) is lost to the drop / burst faults at `now`."""
        if not self.faults.active(now):
            return False
        if self._burst_left > 0:
            self._burst_left -= 1
            return True
        if self.faults.burst_loss > 0 and self._rng.random() < self.faults.burst_loss:
            self._burst_left = self.faults.burst_length - 1
            return True
        return self._chance(self.faults.drop_pct)

    def _corrupt(self, frame: CanFrame) -> CanFrame:
        """The frame with 1–3 distinct random payload bits flipped."""
        data = bytearray(frame.data)
        for bit in self._rng.sample(range(8 * len(data)), self._rng.randint(1, 3)):
            data[bit // 8] ^= 1 << (bit % 8)
        return CanFrame(frame.arbitration_id, bytes(data), frame.is_extended_id)
