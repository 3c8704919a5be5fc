"""CanActuatorBus: ActuatorBus over the robot's CAN buses, speaking MIT mode and the Robstride protocol per motor.

Transport: a `physai.drivers.link.FrameLink` over every bus of the HardwareConfig (`open_link`): python-can
(`socketcan` on a robot, `virtual` in-process, `udp_multicast`) or the virtual `datagram` buses (one datagram
per tick for all buses, each bus's wire time modelled; loopback / a test-made network namespace only). Every
tick serves every bus: one batch with a command frame per motor, then whatever replies have arrived. A bus that
delivers our own frames back (udp_multicast) is harmless: frames are told apart by what they are — MIT
replies come to host id 0 (our commands go to motor ids), Robstride replies are type 2 (feedback) / type 17
frames (our commands are types 1, 3, 4, 18).
Every value is clamped to the motor's limit table by the codec before packing, and `write_command` returns,
joint-side, what the bytes really carry.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import can
import numpy as np

from physai.drivers import mit, robstride
from physai.drivers.bus import ActuatorBus, MotorFeedback, feedback_to_joint, to_joint, to_motor
from physai.drivers.config import HardwareConfig
from physai.drivers.frame import CanFrame, FrameBatch
from physai.drivers.link import FrameLink, as_link
from physai.robot.command import JointCommand

try:  # the compiled codec core (setup.py builds it); the numpy batch codecs are the reference and fallback
    from physai.drivers import _cancore
except ImportError:  # pragma: no cover - a source tree without a build
    _cancore = None

MIT_HOST_ID = 0
"""Arbitration id of MIT-mode replies (the host)."""


def _ranges(table: mit.MitTable | robstride.RobstrideTable) -> tuple[np.ndarray, np.ndarray]:
    """(5, m) C-contiguous float64 lower and upper wire-range ends of a codec table."""
    shape = (5, table.n)
    return (
        np.ascontiguousarray(np.broadcast_to(table.lo, shape), np.float64),
        np.ascontiguousarray(np.broadcast_to(table.hi, shape), np.float64),
    )


_Encoder = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]
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
    """The group's numpy batch encoder (the reference; it raises the named CodecError)."""
    can_ids: np.ndarray
    """(m,) uint32 CAN ids of the group's motors."""
    lo: np.ndarray
    """(5, m) float64 wire range lower ends (C-contiguous, for the compiled core)."""
    hi: np.ndarray
    """(5, m) float64 wire range upper ends."""

    def encode_fast(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`encode` through the compiled core when it is built (same bytes); numpy otherwise or on a bad value."""
        if _cancore is not None:
            m = len(self.motors)
            values = np.ascontiguousarray(values, np.float64)
            ids, payloads, sent = np.empty(m, np.uint32), np.empty((m, 8), np.uint8), np.empty((5, m))
            protocol = 1 if self.extended else 0
            if _cancore.encode(protocol, m, values, self.lo, self.hi, self.can_ids, ids, payloads, sent) < 0:
                return ids, payloads, sent
        return self.encode(values)


class CanActuatorBus(ActuatorBus):
    """The robot's motors on its CAN buses.

    Args:
        config: The hardware config (buses, motors).
        link: The FrameLink of `config`'s buses (`physai.drivers.link.open_link`); a python-can bus is accepted
            for a one-bus config.
    """

    def __init__(self, config: HardwareConfig, link: FrameLink | can.BusABC) -> None:
        super().__init__(config)
        self.link = as_link(link, config)
        n_buses = len(config.buses)
        n = self.n_joints
        self._limits = [m.limits for m in config.motors]
        self._bus_of = config.bus_index.tolist()
        self._mit = {
            (b, m.can_id): i
            for i, (b, m) in enumerate(zip(self._bus_of, config.motors, strict=True))
            if m.protocol == "mit"
        }
        self._rs = {
            (b, m.can_id): i
            for i, (b, m) in enumerate(zip(self._bus_of, config.motors, strict=True))
            if m.protocol == "robstride"
        }
        self._groups = [g for g in (self._mit_group(), self._robstride_group()) if g.motors]
        grouped = [i for g in self._groups for i in g.motors]
        in_motor_order = sorted(range(n), key=grouped.__getitem__)  # group-concatenated index of each motor
        self._motor_rows = np.array(in_motor_order, np.intp)
        self._extended = np.array([self.config.motors[i].extended_id for i in range(n)], bool)
        self._dlc = np.full(n, mit.COMMAND_LEN, np.uint8)
        self._bus = config.bus_index.astype(np.uint8)
        # feedback decoding tables: per bus, CAN id → joint index (−1: not ours); per joint, field scales
        self._mit_joint = np.full((n_buses, 256), -1, np.intp)
        self._rs_joint = np.full((n_buses, 256), -1, np.intp)
        for (bus, can_id), i in self._mit.items():
            self._mit_joint[bus, can_id] = i
        for (bus, can_id), i in self._rs.items():
            self._rs_joint[bus, can_id] = i
        self._lo = np.array([(lim.p_min, lim.v_min, lim.t_min) for lim in self._limits])
        self._hi = np.array([(lim.p_max, lim.v_max, lim.t_max) for lim in self._limits])
        self._span = np.array(
            [(lim.p_max - lim.p_min, lim.v_max - lim.v_min, lim.t_max - lim.t_min) for lim in self._limits]
        )
        widths = [mit.REPLY_BITS if m.protocol == "mit" else (robstride.FIELD_BITS,) * 3 for m in config.motors]
        self._max_int = np.array([[(1 << w) - 1 for w in row] for row in widths], np.int64)
        self._bits = np.array(widths, np.int64)
        self._fresh = np.zeros(n, bool)
        self._position, self._velocity, self._torque = np.zeros(n), np.zeros(n), np.zeros(n)
        self._temperature = np.full(n, np.nan)
        self._error = np.zeros(n, dtype=np.int64)
        self._last_rx = np.full(n, -np.inf)
        self._unanswered_since = np.full(n, np.inf)  # send time of the first command not answered yet (s)
        self._running = np.array([m.protocol == "mit" for m in config.motors])  # Robstride: mode RUN reported
        self.counters: Counter[str] = Counter()

    # ---- modes -------------------------------------------------------------------------------------------
    def enable(self) -> None:
        """MIT: enter motor mode; Robstride: run mode 0 (impedance), CAN watchdog, enable."""
        host = self.config.host_id
        frames: list[tuple[int, CanFrame]] = []
        for bus, motor in zip(self._bus_of, self.config.motors, strict=True):
            if motor.protocol == "mit":
                frames.append((bus, CanFrame(motor.can_id, mit.ENTER_MOTOR_MODE)))
            else:
                frames += [
                    (bus, robstride.encode_set_run_mode(motor.can_id, robstride.RunMode.OPERATION, host)),
                    (bus, robstride.encode_set_can_timeout(motor.can_id, 10 * self.config.stale_timeout_s, host)),
                    (bus, robstride.encode_enable(motor.can_id, host)),
                ]
        self._count_sent(self.link.send(frames), len(frames))

    def disable(self) -> None:
        """MIT: exit motor mode; Robstride: stop."""
        frames = [
            (
                bus,
                CanFrame(m.can_id, mit.EXIT_MOTOR_MODE)
                if m.protocol == "mit"
                else robstride.encode_stop(m.can_id, self.config.host_id),
            )
            for bus, m in zip(self._bus_of, self.config.motors, strict=True)
        ]
        self._count_sent(self.link.send(frames), len(frames))

    # ---- commands ----------------------------------------------------------------------------------------
    def write_command(self, command: JointCommand, now_s: float) -> JointCommand:
        """One frame per motor, one batch per bus (motor order within it); returns what the frames carry.

        Each protocol's motors are encoded in one batch call (`mit.encode_commands`,
        `robstride.encode_motion_controls`: the same bytes as the scalar codecs). A NaN / ±Inf raises
        `CodecError` naming the field and joint (e.g. "position[left_knee]") before any frame is sent.
        """
        motor = to_motor(self.config, command)
        values = np.stack((motor.q, motor.dq, motor.kp, motor.kd, motor.tau_ff))
        sent = np.empty_like(values)
        ids, payloads = [], []
        for group in self._groups:
            group_ids, group_payloads, sent[:, group.columns] = group.encode_fast(values[:, group.columns])
            ids.append(group_ids)
            payloads.append(group_payloads)
        rows = self._motor_rows
        all_ids = (np.concatenate(ids) if len(ids) > 1 else ids[0]).astype(np.uint32)[rows]
        all_payloads = (np.concatenate(payloads) if len(payloads) > 1 else payloads[0])[rows]
        batch = FrameBatch(all_ids, self._extended, self._dlc, all_payloads, self._bus)
        self._count_sent(self.link.send_batch(batch), len(rows))
        np.minimum(self._unanswered_since, now_s, out=self._unanswered_since)  # each motor now owes a reply
        return to_joint(self.config, JointCommand(*sent))

    def _mit_group(self) -> _Group:
        motors = tuple(self._mit.values())
        can_ids = np.array([can_id for _, can_id in self._mit], np.uint32)
        table = mit.mit_table([self._limits[i] for i in motors], [self.config.motors[i].joint for i in motors])

        def encode(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            payloads, sent = mit.encode_commands(*values, table)
            return can_ids, payloads, sent

        return _Group(motors, np.array(motors, dtype=np.intp), False, encode, can_ids, *_ranges(table))

    def _robstride_group(self) -> _Group:
        motors = tuple(self._rs.values())
        can_ids = np.array([can_id for _, can_id in self._rs], dtype=np.int64)
        labels = [self.config.motors[i].joint for i in motors]
        table = robstride.robstride_table([self._limits[i] for i in motors], labels)

        def encode(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            return robstride.encode_motion_controls(can_ids, *values, table)

        return _Group(motors, np.array(motors, dtype=np.intp), True, encode, can_ids.astype(np.uint32), *_ranges(table))

    # ---- feedback ----------------------------------------------------------------------------------------
    def read_state(self, now_s: float) -> MotorFeedback:
        """Take in every bus's received frames; the latest feedback per joint (joint side).

        Replies are decoded in one batch per bus and protocol (`mit.reply_fields`, `robstride.feedback_fields`,
        scaled as `uint_to_float` does: the same values as the scalar decoders); of several replies from one
        motor in a batch the last one counts. Frames that are not replies from our motors (our own echoed
        commands, other nodes' traffic) are skipped; replies that cannot be decoded are counted.
        """
        self._fresh[:] = False
        batch = self.link.receive_batch()
        if len(batch) and _cancore is not None:
            self.counters["frames_received"] += len(batch)
            replies, errors = _cancore.decode(
                len(batch),
                *(np.ascontiguousarray(a) for a in (batch.ids, batch.extended, batch.dlc, batch.data, batch.bus)),
                len(self._mit_joint),
                self._mit_joint,
                self._rs_joint,
                self._lo,
                self._hi,
                self._bits,
                now_s,
                self._position,
                self._velocity,
                self._torque,
                self._temperature,
                self._error,
                self._last_rx,
                self._fresh,
                self._running,
            )
            self.counters["replies"] += replies
            self.counters["decode_errors"] += errors
        elif len(batch):
            self._take(batch, now_s)
        q, dq, tau = feedback_to_joint(self.config, self._position, self._velocity, self._torque)
        self._unanswered_since[self._fresh] = np.inf
        age = np.where(np.isfinite(self._last_rx), np.maximum(now_s - self._unanswered_since, 0.0), np.inf)
        return MotorFeedback(
            q,
            dq,
            tau,
            self._temperature.copy(),
            self._error.copy(),
            age,
            age > self.config.stale_timeout_s,
            self._fresh.copy(),
        )

    def _take(self, batch: FrameBatch, now_s: float) -> None:
        """Decode and store the replies in a batch."""
        self.counters["frames_received"] += len(batch)
        ids, data, dlc = batch.ids, batch.data, batch.dlc
        standard = ~batch.extended
        # MIT: replies come to host id 0, byte 0 names the motor
        rows = np.flatnonzero(standard & (ids == MIT_HOST_ID) & (dlc > 0))
        if rows.size:
            joints = self._mit_joint[batch.bus[rows], data[rows, 0]]
            rows, joints = rows[joints >= 0], joints[joints >= 0]
            good = (dlc[rows] == mit.REPLY_LEN_SHORT) | (dlc[rows] == mit.REPLY_LEN_LONG)
            self.counters["decode_errors"] += int(np.count_nonzero(~good))
            rows, joints = rows[good], joints[good]
            if rows.size:
                _, ints, temperature, error = mit.reply_fields(data[rows], dlc[rows])
                self._store(joints, ints, temperature, error, now_s)
        # Robstride: type-2 feedback, the motor id in bits 8..15
        rows = np.flatnonzero(batch.extended & ((ids >> 24) == robstride.CommType.FEEDBACK))
        if rows.size:
            joints = self._rs_joint[batch.bus[rows], (ids[rows] >> 8) & 0xFF]
            rows, joints = rows[joints >= 0], joints[joints >= 0]
            _, _, ints, temperature, faults, mode = robstride.feedback_fields(ids[rows], data[rows])
            good = (dlc[rows] == robstride.FRAME_LEN) & (mode != 3)  # mode state 3 is undefined
            self.counters["decode_errors"] += int(np.count_nonzero(~good))
            joints = joints[good]
            if joints.size:
                self._running[joints] = mode[good] == robstride.MotorMode.RUN
                self._store(joints, ints[good], temperature[good], faults[good], now_s)

    def _store(
        self, joints: np.ndarray, ints: np.ndarray, temperature: np.ndarray, error: np.ndarray, now_s: float
    ) -> None:
        """Scale (m, 3) field integers of m replies from `joints` onto SI values (as `uint_to_float`) and keep them."""
        values = ints * self._span[joints] / self._max_int[joints] + self._lo[joints]
        self._position[joints], self._velocity[joints], self._torque[joints] = values.T
        self._temperature[joints] = temperature
        self._error[joints] = error
        self._last_rx[joints] = now_s
        self._fresh[joints] = True
        self.counters["replies"] += len(joints)

    # ---- plumbing ----------------------------------------------------------------------------------------
    def _count_sent(self, sent: int, attempted: int) -> None:
        self.counters["frames_sent"] += sent
        self.counters["send_errors"] += attempted - sent

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
        """Release the buses."""
        self.link.close()
