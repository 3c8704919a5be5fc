"""CanActuatorBus: ActuatorBus over python-can, speaking MIT mode and the Robstride protocol per motor.

Transport: any python-can interface — `socketcan` on a robot, `virtual` in-process, `udp_multicast` between
processes (on loopback or inside a test-made network namespace only). udp_multicast delivers our own frames
back to us; they are told apart by what they are: MIT replies come to host id 0 (our commands go to motor
ids), Robstride replies are type 2 (feedback) / type 17 frames (our commands are types 1, 3, 4, 18).
Every value is clamped to the motor's limit table by the codec before packing, and `write_command` returns,
joint-side, what the bytes really carry.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import can
import numpy as np

from physai.control.command import JointCommand
from physai.drivers import mit, robstride
from physai.drivers.bus import ActuatorBus, MotorFeedback, feedback_to_joint, to_joint, to_motor
from physai.drivers.config import HardwareConfig
from physai.drivers.frame import CanFrame
from physai.drivers.limits import CodecError

MIT_HOST_ID = 0
"""Arbitration id of MIT-mode replies (the host)."""


def open_bus(config: HardwareConfig, *, interface: str | None = None, channel: str | None = None) -> can.BusABC:
    """A python-can bus for `config.bus` (interface/channel may be overridden, e.g. for HIL)."""
    kind = interface or config.bus.interface
    kwargs: dict = {"interface": kind, "channel": channel or config.bus.channel}
    if kind == "socketcan":
        kwargs["bitrate"] = config.bus.bitrate
    if kind == "udp_multicast":
        kwargs["receive_own_messages"] = False
    return can.Bus(**kwargs)


def to_message(frame: CanFrame) -> can.Message:
    """python-can Message of a codec frame."""
    return can.Message(arbitration_id=frame.arbitration_id, data=frame.data, is_extended_id=frame.is_extended_id)


_Encoder = Callable[[np.ndarray], tuple[list[int], np.ndarray, np.ndarray]]
"""(5, m) motor-side (q, dq, kp, kd, τ_ff) of a group's m motors → (arbitration ids, (m, 8) uint8 payloads,
(5, m) what the frames carry)."""


@dataclass(frozen=True)
class _Group:
    """The motors of one protocol, encoded in one batch call per command."""

    motors: tuple[int, ...]
    """Motor (joint) indices, in config order."""
    columns: np.ndarray
    """The same indices as an intp array, for fancy indexing."""
    extended: bool
    """29-bit identifiers (Robstride) rather than 11-bit (MIT)."""
    encode: _Encoder
    """The group's batch encoder."""


def _rows(payloads: np.ndarray) -> list[bytes]:
    """(m, 8) uint8 payloads → m 8-byte strings."""
    data, width = payloads.tobytes(), payloads.shape[1]
    return [data[k : k + width] for k in range(0, len(data), width)]


class CanActuatorBus(ActuatorBus):
    """The robot's motors on one CAN bus."""

    def __init__(self, config: HardwareConfig, bus: can.BusABC) -> None:
        super().__init__(config)
        self.bus = bus
        n = self.n_joints
        self._limits = [m.limits for m in config.motors]
        self._mit = {m.can_id: i for i, m in enumerate(config.motors) if m.protocol == "mit"}
        self._rs = {m.can_id: i for i, m in enumerate(config.motors) if m.protocol == "robstride"}
        self._groups = [g for g in (self._mit_group(), self._robstride_group()) if g.motors]
        grouped = [i for g in self._groups for i in g.motors]
        self._send_order = sorted(range(n), key=grouped.__getitem__)  # group-concatenated → motor order
        self._position, self._velocity, self._torque = np.zeros(n), np.zeros(n), np.zeros(n)
        self._temperature = np.full(n, np.nan)
        self._error = np.zeros(n, dtype=np.int64)
        self._last_rx = np.full(n, -np.inf)
        self._running = np.array([m.protocol == "mit" for m in config.motors])  # Robstride: mode RUN reported
        self.counters: Counter[str] = Counter()

    # ---- modes -------------------------------------------------------------------------------------------
    def enable(self) -> None:
        """MIT: enter motor mode; Robstride: run mode 0 (impedance), CAN watchdog, enable."""
        host = self.config.host_id
        for motor in self.config.motors:
            if motor.protocol == "mit":
                self._send(CanFrame(motor.can_id, mit.ENTER_MOTOR_MODE))
            else:
                self._send(robstride.encode_set_run_mode(motor.can_id, robstride.RunMode.OPERATION, host))
                self._send(robstride.encode_set_can_timeout(motor.can_id, 10 * self.config.stale_timeout_s, host))
                self._send(robstride.encode_enable(motor.can_id, host))

    def disable(self) -> None:
        """MIT: exit motor mode; Robstride: stop."""
        for motor in self.config.motors:
            if motor.protocol == "mit":
                self._send(CanFrame(motor.can_id, mit.EXIT_MOTOR_MODE))
            else:
                self._send(robstride.encode_stop(motor.can_id, self.config.host_id))

    # ---- commands ----------------------------------------------------------------------------------------
    def write_command(self, command: JointCommand, now_s: float) -> JointCommand:
        """One frame per motor, in motor order; returns the joint-side command the frames carry.

        Each protocol's motors are encoded in one batch call (`mit.encode_commands`,
        `robstride.encode_motion_controls`: the same bytes as the scalar codecs). A NaN / ±Inf raises
        `CodecError` naming the field and joint (e.g. "position[left_knee]") before any frame is sent.
        """
        motor = to_motor(self.config, command)
        values = np.stack((motor.q, motor.dq, motor.kp, motor.kd, motor.tau_ff))
        sent = np.empty_like(values)
        messages: list[can.Message] = []
        for group in self._groups:
            arbitration_ids, payloads, sent[:, group.columns] = group.encode(values[:, group.columns])
            messages += [
                can.Message(arbitration_id=arbitration_id, data=data, is_extended_id=group.extended)
                for arbitration_id, data in zip(arbitration_ids, _rows(payloads), strict=True)
            ]
        for k in self._send_order:
            self._send_message(messages[k])
        return to_joint(self.config, JointCommand(*sent))

    def _mit_group(self) -> _Group:
        motors = tuple(self._mit.values())
        can_ids = list(self._mit)
        table = mit.mit_table([self._limits[i] for i in motors], [self.config.motors[i].joint for i in motors])

        def encode(values: np.ndarray) -> tuple[list[int], np.ndarray, np.ndarray]:
            payloads, sent = mit.encode_commands(*values, table)
            return can_ids, payloads, sent

        return _Group(motors, np.array(motors, dtype=np.intp), False, encode)

    def _robstride_group(self) -> _Group:
        motors = tuple(self._rs.values())
        can_ids = np.array(list(self._rs), dtype=np.int64)
        labels = [self.config.motors[i].joint for i in motors]
        table = robstride.robstride_table([self._limits[i] for i in motors], labels)

        def encode(values: np.ndarray) -> tuple[list[int], np.ndarray, np.ndarray]:
            arbitration_ids, payloads, sent = robstride.encode_motion_controls(can_ids, *values, table)
            return arbitration_ids.tolist(), payloads, sent

        return _Group(motors, np.array(motors, dtype=np.intp), True, encode)

    # ---- feedback ----------------------------------------------------------------------------------------
    def read_state(self, now_s: float) -> MotorFeedback:
        """Drain received frames; the latest feedback per joint (joint side)."""
        while (msg := self.bus.recv(timeout=0)) is not None:
            self._receive(msg, now_s)
        q, dq, tau = feedback_to_joint(self.config, self._position, self._velocity, self._torque)
        age = now_s - self._last_rx
        return MotorFeedback(
            q, dq, tau, self._temperature.copy(), self._error.copy(), age, age > self.config.stale_timeout_s
        )

    def _receive(self, msg: can.Message, now_s: float) -> None:
        self.counters["frames_received"] += 1
        try:
            if not msg.is_extended_id:
                if msg.arbitration_id != MIT_HOST_ID or not msg.data or msg.data[0] not in self._mit:
                    return  # our own command echoed, or another node's traffic
                i = self._mit[msg.data[0]]
                reply = mit.unpack_reply(bytes(msg.data), self._limits[i])
                self._store(i, now_s, reply.position, reply.velocity, reply.torque, reply.temperature_c, reply.error)
                return
            comm_type = msg.arbitration_id >> 24
            if comm_type != robstride.CommType.FEEDBACK:
                return
            motor_id = (msg.arbitration_id >> 8) & 0xFF
            if motor_id not in self._rs:
                return
            i = self._rs[motor_id]
            fb = robstride.decode_feedback(msg.arbitration_id, bytes(msg.data), self._limits[i])
            self._running[i] = fb.mode == robstride.MotorMode.RUN
            self._store(i, now_s, fb.position, fb.velocity, fb.torque, fb.temperature_c, int(fb.faults))
        except (CodecError, ValueError):
            self.counters["decode_errors"] += 1

    def _store(
        self, i: int, now_s: float, q: float, dq: float, tau: float, temp: float | None, error: int | None
    ) -> None:
        self._position[i], self._velocity[i], self._torque[i] = q, dq, tau
        self._temperature[i] = math.nan if temp is None else temp
        self._error[i] = error or 0
        self._last_rx[i] = now_s
        self.counters["replies"] += 1

    # ---- plumbing ----------------------------------------------------------------------------------------
    def _send(self, frame: CanFrame) -> None:
        self._send_message(to_message(frame))

    def _send_message(self, message: can.Message) -> None:
        try:
            self.bus.send(message)
            self.counters["frames_sent"] += 1
        except can.CanError:
            self.counters["send_errors"] += 1

    def not_running(self) -> list[str]:
        """Joints whose motor has not answered yet or (Robstride) does not report run mode."""
        return [
            m.joint
            for m, rx, running in zip(self.config.motors, self._last_rx, self._running, strict=True)
            if not (np.isfinite(rx) and running)
        ]

    def health(self) -> dict[str, str]:
        """Frame counters for /diagnostics."""
        return {k: str(v) for k, v in sorted(self.counters.items())}

    def close(self) -> None:
        """Shut the python-can bus down."""
        self.bus.shutdown()
