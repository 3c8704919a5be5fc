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


class CanActuatorBus(ActuatorBus):
    """The robot's motors on one CAN bus."""

    def __init__(self, config: HardwareConfig, bus: can.BusABC) -> None:
        super().__init__(config)
        self.bus = bus
        n = self.n_joints
        self._limits = [m.limits for m in config.motors]
        self._mit = {m.can_id: i for i, m in enumerate(config.motors) if m.protocol == "mit"}
        self._rs = {m.can_id: i for i, m in enumerate(config.motors) if m.protocol == "robstride"}
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
        """One frame per motor; returns the joint-side command the frames carry (after clamping/quantization)."""
        motor = to_motor(self.config, command)
        sent = np.empty((5, self.n_joints))
        for i, cfg in enumerate(self.config.motors):
            args = (motor.q[i], motor.dq[i], motor.kp[i], motor.kd[i], motor.tau_ff[i], self._limits[i])
            if cfg.protocol == "mit":
                data, cmd = mit.encode_command(*args)
                self._send(CanFrame(cfg.can_id, data))
                sent[:, i] = (cmd.position, cmd.velocity, cmd.kp, cmd.kd, cmd.torque_ff)
            else:
                frame, cmd = robstride.encode_motion_control(cfg.can_id, *args)
                self._send(frame)
                sent[:, i] = (cmd.position, cmd.velocity, cmd.kp, cmd.kd, cmd.torque_ff)
        return to_joint(self.config, JointCommand(*sent))

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
        try:
            self.bus.send(to_message(frame))
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
