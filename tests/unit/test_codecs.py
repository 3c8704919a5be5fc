"""Protocol codecs: hand-computed frames from the protocol documents, clamp-before-pack, round trips.

Hand computations use the Katz firmware formula int((x − x_min)·(2^bits − 1)/(x_max − x_min)).
"""

from __future__ import annotations

import math
import struct
import uuid

import can
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from physai.drivers import mit
from physai.drivers import robstride as rs
from physai.drivers.bus import to_joint, to_motor
from physai.drivers.can_bus import CanActuatorBus
from physai.drivers.config import HardwareConfig
from physai.drivers.frame import CanFrame
from physai.drivers.limits import CodecError, MotorLimits, float_to_uint, quantization_step, uint_to_float
from physai.drivers.link import open_link
from physai.robot.command import JointCommand
from physai.robot.spec import RobotSpec

MC = mit.MINI_CHEETAH  # P ±12.5 rad, V ±65 rad/s, KP 0–500, KD 0–5, T ±18 N·m
CG = rs.CYBERGEAR  # P ±4π rad, V ±30 rad/s, KP 0–500, KD 0–5, T ±12 N·m
FIELDS = ("position", "velocity", "kp", "kd", "torque_ff")

# Any finite double, including values far outside every range (exercises clamping).
finite = st.floats(allow_nan=False, allow_infinity=False)
# Values spread over and a little beyond the ranges of every table (exercises in-range quantization).
moderate = st.floats(min_value=-6000.0, max_value=6000.0, allow_nan=False)
value = st.one_of(moderate, finite)
PROPERTY = settings(max_examples=150, deadline=None)


def _ranges(limits: MotorLimits) -> dict[str, tuple[float, float]]:
    return {
        "position": (limits.p_min, limits.p_max),
        "velocity": (limits.v_min, limits.v_max),
        "kp": (limits.kp_min, limits.kp_max),
        "kd": (limits.kd_min, limits.kd_max),
        "torque_ff": (limits.t_min, limits.t_max),
    }


def _assert_within_one_step(sent: float, requested: float, lo: float, hi: float, step: float, what: str) -> None:
    """The value on the wire is the clamped request truncated down by less than one step (≤ 1 after a nudge)."""
    expected = min(max(requested, lo), hi)
    slack = 1e-9 * max(1.0, abs(hi), abs(lo))
    assert lo - slack <= sent <= hi + slack, f"{what}: {sent} outside [{lo}, {hi}]"
    assert abs(sent - expected) <= step + slack, f"{what}: sent {sent}, clamped request {expected}, step {step}"


# ---------------------------------------------------------------------------------------------------------
# Shared scaling
# ---------------------------------------------------------------------------------------------------------


def test_float_to_uint_matches_katz_formula_and_ends():
    # p = 0 on ±12.5, 16 bit: (0 + 12.5)·65535/25 = 32767.5 → 32767 = 0x7FFF
    assert float_to_uint(0.0, -12.5, 12.5, 16) == 0x7FFF
    assert float_to_uint(12.5, -12.5, 12.5, 16) == 0xFFFF
    assert float_to_uint(-12.5, -12.5, 12.5, 16) == 0x0000
    # 4π on ±4π maps exactly to the top, even though 8π·65535/8π is not exact in floating point.
    assert float_to_uint(4 * math.pi, -4 * math.pi, 4 * math.pi, 16) == 0xFFFF
    assert uint_to_float(0xFFFF, -12.5, 12.5, 16) == pytest.approx(12.5)
    assert uint_to_float(0, -12.5, 12.5, 16) == -12.5
    assert quantization_step(-12.5, 12.5, 16) == pytest.approx(25 / 65535)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: float_to_uint(0.0, 1.0, 1.0, 12), "range"),
        (lambda: float_to_uint(0.0, -1.0, 1.0, 0), "bits"),
        (lambda: uint_to_float(4096, -1.0, 1.0, 12), "value"),
        (lambda: uint_to_float(-1, -1.0, 1.0, 12), "value"),
        (lambda: float_to_uint("x", -1.0, 1.0, 12, field="kp"), "kp"),  # type: ignore[arg-type]
    ],
)
def test_scaling_rejects_bad_arguments(call, field):
    with pytest.raises(CodecError) as err:
        call()
    assert err.value.field == field


@PROPERTY
@given(x1=finite, x2=finite, bits=st.sampled_from([12, 16]))
def test_float_to_uint_is_monotonic_and_in_range(x1, x2, bits):
    lo, hi = sorted((x1, x2))
    u_lo, u_hi = float_to_uint(lo, -12.5, 12.5, bits), float_to_uint(hi, -12.5, 12.5, bits)
    assert 0 <= u_lo <= u_hi <= (1 << bits) - 1


def test_motor_limits_validate_and_tables_have_the_published_values():
    with pytest.raises(CodecError, match="p_min/p_max"):
        MotorLimits(1.0, 1.0, -1, 1, 0, 1, 0, 1, -1, 1)
    with pytest.raises(CodecError, match="t_min/t_max"):
        MotorLimits(-1, 1, -1, 1, 0, 1, 0, 1, -1, math.inf)
    expected_mit = {
        "mini_cheetah": (12.5, 65.0, 500.0, 5.0, 18.0),
        "AK80-6": (12.5, 76.0, 500.0, 5.0, 12.0),
        "AK10-9": (12.5, 50.0, 500.0, 5.0, 65.0),
        "AK70-10": (12.5, 50.0, 500.0, 5.0, 25.0),
    }
    for model, (p, v, kp, kd, t) in expected_mit.items():
        lim = mit.limits_for(model)
        assert (lim.p_min, lim.p_max, lim.v_min, lim.v_max) == (-p, p, -v, v)
        assert (lim.kp_min, lim.kp_max, lim.kd_min, lim.kd_max, lim.t_min, lim.t_max) == (0, kp, 0, kd, -t, t)
    expected_rs = {
        "CyberGear": (30.0, 500.0, 5.0, 12.0),
        "RS03": (20.0, 5000.0, 100.0, 60.0),
        "RS04": (15.0, 5000.0, 100.0, 120.0),
    }
    for model, (v, kp, kd, t) in expected_rs.items():
        lim = rs.limits_for(model)
        assert (lim.p_min, lim.p_max) == (-4 * math.pi, 4 * math.pi)
        assert (lim.v_max, lim.kp_max, lim.kd_max, lim.t_max) == (v, kp, kd, t)
    with pytest.raises(CodecError, match="AK80-6"):
        mit.limits_for("AK99")
    with pytest.raises(CodecError, match="RS04"):
        rs.limits_for("RS99")
    assert MC.as_dict()["v_max"] == 65.0


def test_can_frame_validates_id_and_length():
    assert CanFrame(0x7FF, b"\x01").data == b"\x01"
    assert CanFrame(0x1FFF_FFFF, bytearray(8), is_extended_id=True).data == bytes(8)
    with pytest.raises(CodecError, match="arbitration_id"):
        CanFrame(0x800, b"")
    with pytest.raises(CodecError, match="data"):
        CanFrame(1, bytes(9))


# ---------------------------------------------------------------------------------------------------------
# MIT mode: hand-computed frames
# ---------------------------------------------------------------------------------------------------------


def test_mit_zero_command_exact_bytes():
    # Mini Cheetah ranges. p: (0 + 12.5)·65535/25 = 32767.5 → 32767 = 0x7FFF
    # v: (0 + 65)·4095/130 = 2047.5 → 2047 = 0x7FF;  kp = kd = 0 → 0x000;  t: 18·4095/36 = 2047.5 → 0x7FF
    # b0 = 0x7F, b1 = 0xFF, b2 = 0x7FF >> 4 = 0x7F, b3 = (0xF << 4) | (0 >> 8) = 0xF0, b4 = 0x00,
    # b5 = 0 >> 4 = 0x00, b6 = (0 << 4) | (0x7FF >> 8) = 0x07, b7 = 0xFF
    assert mit.pack_command(0, 0, 0, 0, 0, MC) == bytes.fromhex("7F FF 7F F0 00 00 07 FF")


def test_mit_mid_range_command_exact_bytes():
    # p = 1.0:   13.5·65535/25  = 35388.9 → 35388 = 0x8A3C
    # v = 10:    75·4095/130    = 2362.5  → 2362  = 0x93A
    # kp = 50:   50·4095/500    = 409.5   → 409   = 0x199
    # kd = 1:    1·4095/5       = 819.0   → 819   = 0x333
    # t = −3:    15·4095/36     = 1706.25 → 1706  = 0x6AA
    # b0 0x8A, b1 0x3C, b2 0x93, b3 (0xA << 4)|0x1 = 0xA1, b4 0x99, b5 0x33, b6 (0x3 << 4)|0x6 = 0x36, b7 0xAA
    data, sent = mit.encode_command(1.0, 10.0, 50.0, 1.0, -3.0, MC)
    assert data == bytes.fromhex("8A 3C 93 A1 99 33 36 AA")
    assert sent.position == pytest.approx(35388 * 25 / 65535 - 12.5)
    assert sent.kd == pytest.approx(1.0)
    assert mit.unpack_command(data, MC) == sent


def test_mit_extremes_exact_bytes():
    assert mit.pack_command(12.5, 65, 500, 5, 18, MC) == bytes.fromhex("FF FF FF FF FF FF FF FF")
    assert mit.pack_command(-12.5, -65, 0, 0, -18, MC) == bytes(8)
    assert mit.pack_command(12.5, 0, 0, 0, 0, MC)[:2] == b"\xff\xff"  # p_max → 0xFFFF
    assert mit.pack_command(-12.5, 0, 0, 0, 0, MC)[:2] == b"\x00\x00"  # p_min → 0x0000


def test_mit_special_frames_exact_bytes():
    assert bytes.fromhex("FF FF FF FF FF FF FF FC") == mit.ENTER_MOTOR_MODE
    assert bytes.fromhex("FF FF FF FF FF FF FF FD") == mit.EXIT_MOTOR_MODE
    assert bytes.fromhex("FF FF FF FF FF FF FF FE") == mit.SET_ZERO
    assert mit.special_frame_kind(mit.SET_ZERO) is mit.MitSpecial.SET_ZERO
    assert mit.special_frame_kind(bytes(8)) is None
    assert mit.decode_host_frame(mit.ENTER_MOTOR_MODE, MC) is mit.MitSpecial.ENTER_MOTOR_MODE
    assert isinstance(mit.decode_host_frame(bytes(8), MC), mit.MitCommand)
    with pytest.raises(CodecError, match="special frame"):
        mit.unpack_command(mit.EXIT_MOTOR_MODE, MC)


def test_mit_command_never_collides_with_a_special_frame():
    # All maxima and t_int = 0xFFC would read FF FF FF FF FF FF FF FC = "enter motor mode".
    # t = 17.975: (35.975)·4095/36 = 4092.16 → 4092 = 0xFFC. The encoder lowers p by one LSB instead.
    data, sent = mit.encode_command(12.5, 65, 500, 5, 17.975, MC)
    assert data == bytes.fromhex("FF FE FF FF FF FF FF FC")
    assert data not in mit.SPECIAL_FRAMES
    assert sent.position == pytest.approx(12.5 - 25 / 65535)
    assert mit.unpack_command(data, MC) == sent


# ---------------------------------------------------------------------------------------------------------
# MIT mode: clamp before pack, non-finite rejection
# ---------------------------------------------------------------------------------------------------------


def test_mit_out_of_range_targets_saturate_instead_of_wrapping():
    # Unclamped, 20 rad would scale to int(32.5·65535/25) = 85195, and the 16-bit field would keep
    # 85195 & 0xFFFF = 19659 → 19659·25/65535 − 12.5 ≈ −5.0 rad: a reversal. Clamped it is p_max.
    data, sent = mit.encode_command(20.0, 0, 0, 0, 0, MC)
    assert data[:2] == b"\xff\xff"
    assert sent.position == pytest.approx(12.5)
    data, sent = mit.encode_command(-1e9, 1e9, 1e9, -1e9, -1e9, MC)
    assert data == bytes.fromhex("00 00 FF FF FF 00 00 00")
    assert (sent.position, sent.velocity, sent.kp, sent.kd, sent.torque_ff) == pytest.approx((-12.5, 65, 500, 0, -18))


@pytest.mark.parametrize("index", range(5))
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_mit_non_finite_field_is_rejected_naming_it(index, bad):
    args = [0.0] * 5
    args[index] = bad
    with pytest.raises(ValueError, match=f"'{FIELDS[index]}'") as err:
        mit.encode_command(*args, MC)
    assert isinstance(err.value, CodecError)
    assert err.value.field == FIELDS[index]


# ---------------------------------------------------------------------------------------------------------
# MIT mode: replies
# ---------------------------------------------------------------------------------------------------------


def test_mit_reply_six_and_eight_bytes():
    # id 1, p = 0x7FFF, v = 0x7FF, t = 0x7FF: 01 | 7F FF | 7F | F7 | FF
    short = mit.unpack_reply(bytes.fromhex("01 7F FF 7F F7 FF"), MC)
    assert short.motor_id == 1
    assert short.position == pytest.approx(32767 * 25 / 65535 - 12.5)
    assert short.velocity == pytest.approx(2047 * 130 / 4095 - 65)
    assert short.torque == pytest.approx(2047 * 36 / 4095 - 18)
    assert short.temperature_c is None and short.error is None
    # CubeMars: byte 6 = 0x41 = 65 → 65 − 40 = 25 °C; byte 7 = 1 → over-temperature
    long = mit.unpack_reply(bytes.fromhex("01 7F FF 7F F7 FF 41 01"), MC)
    assert long.temperature_c == 25.0
    assert long.error == 1
    assert mit.describe_error(long.error) == "over-temperature"
    assert mit.describe_error(6).startswith("phase current unbalance")
    assert mit.describe_error(99) == "unknown error code 99"
    assert mit.unpack_reply(bytes.fromhex("01 7F FF 7F F7 FF 41 01"), MC, temperature_offset_c=0).temperature_c == 65
    for bad in (bytes(5), bytes(7), bytes(9)):
        with pytest.raises(CodecError, match="6 or 8 bytes"):
            mit.unpack_reply(bad, MC)


def test_mit_pack_reply_exact_bytes_and_validation():
    assert mit.pack_reply(1, 0.0, 0.0, 0.0, MC) == bytes.fromhex("01 7F FF 7F F7 FF")
    assert mit.pack_reply(1, 0.0, 0.0, 0.0, MC, temperature_c=25.0, error=0) == bytes.fromhex("01 7F FF 7F F7 FF 41 00")
    assert mit.pack_reply(2, 99.0, -99.0, 99.0, MC)[1:] == bytes.fromhex("FF FF 00 0F FF")
    with pytest.raises(CodecError, match="motor_id"):
        mit.pack_reply(256, 0, 0, 0, MC)
    with pytest.raises(CodecError, match="'torque'"):
        mit.pack_reply(1, 0, 0, math.nan, MC)
    with pytest.raises(CodecError, match="'error'"):
        mit.pack_reply(1, 0, 0, 0, MC, error=300)


# ---------------------------------------------------------------------------------------------------------
# MIT mode: round-trip properties over every model table
# ---------------------------------------------------------------------------------------------------------


@PROPERTY
@given(model=st.sampled_from(sorted(mit.MIT_LIMITS)), p=value, v=value, kp=value, kd=value, t=value)
def test_mit_round_trip_within_one_step(model, p, v, kp, kd, t):
    limits = mit.MIT_LIMITS[model]
    data, sent = mit.encode_command(p, v, kp, kd, t, limits)
    assert len(data) == 8
    assert data not in mit.SPECIAL_FRAMES
    decoded = mit.unpack_command(data, limits)
    assert decoded == sent
    steps = mit.quantization_steps(limits)
    for name, requested in zip(FIELDS, (p, v, kp, kd, t), strict=True):
        lo, hi = _ranges(limits)[name]
        _assert_within_one_step(getattr(decoded, name), requested, lo, hi, getattr(steps, name), f"{model}.{name}")


@PROPERTY
@given(
    model=st.sampled_from(sorted(mit.MIT_LIMITS)),
    motor_id=st.integers(0, 255),
    p=value,
    v=value,
    t=value,
    temp=st.integers(-40, 215),
    error=st.integers(0, 6),
)
def test_mit_reply_round_trip_within_one_step(model, motor_id, p, v, t, temp, error):
    limits = mit.MIT_LIMITS[model]
    reply = mit.unpack_reply(mit.pack_reply(motor_id, p, v, t, limits, temperature_c=temp, error=error), limits)
    assert (reply.motor_id, reply.temperature_c, reply.error) == (motor_id, temp, error)
    _assert_within_one_step(
        reply.position, p, limits.p_min, limits.p_max, quantization_step(limits.p_min, limits.p_max, 16), "p"
    )
    _assert_within_one_step(
        reply.velocity, v, limits.v_min, limits.v_max, quantization_step(limits.v_min, limits.v_max, 12), "v"
    )
    _assert_within_one_step(
        reply.torque, t, limits.t_min, limits.t_max, quantization_step(limits.t_min, limits.t_max, 12), "t"
    )


# ---------------------------------------------------------------------------------------------------------
# Robstride / CyberGear: hand-computed frames
# ---------------------------------------------------------------------------------------------------------


def test_cybergear_motion_control_exact_frame():
    # Torque 0 over ±12 N·m: 12·65535/24 = 32767.5 → 0x7FFF in data area 2; target 0x7F.
    # ID = (1 << 24) | (0x7FFF << 8) | 0x7F = 0x017FFF7F.
    # Angle 0 over ±4π → 0x7FFF, velocity 0 over ±30 → 0x7FFF, kp 0 → 0x0000, kd 0 → 0x0000 (big-endian).
    frame, sent = rs.encode_motion_control(0x7F, 0.0, 0.0, 0.0, 0.0, 0.0, CG)
    assert frame.is_extended_id
    assert frame.arbitration_id == 0x017FFF7F
    assert frame.data == bytes.fromhex("7F FF 7F FF 00 00 00 00")
    assert sent.target_id == 0x7F
    assert sent.torque_ff == pytest.approx(32767 * 24 / 65535 - 12)
    # All maxima: torque 12 → 0xFFFF (ID 0x01FFFF01 for motor 1), payload all 0xFF.
    frame, _ = rs.encode_motion_control(1, 4 * math.pi, 30, 500, 5, 12, CG)
    assert (frame.arbitration_id, frame.data) == (0x01FFFF01, bytes.fromhex("FF FF FF FF FF FF FF FF"))
    # RS04, torque −120 (t_min) → data2 0 → ID 0x0100007F; kp 2500 of 5000: 2500·65535/5000 = 32767.5 → 0x7FFF
    frame, _ = rs.encode_motion_control(0x7F, 0.0, 0.0, 2500.0, 0.0, -120.0, rs.RS04)
    assert frame.arbitration_id == 0x0100007F
    assert frame.data[4:6] == b"\x7f\xff"


def test_cybergear_feedback_with_fault_bits():
    # Motor 0x7F → host 0xFD, faults under-voltage (bit 16) + over-temperature (bit 18) = 0b000101,
    # mode 2 (run, bits 22–23): data2 = (2 << 14) | (0x05 << 8) | 0x7F = 0x857F → ID 0x02857FFD.
    # Payload: angle 0x8000, velocity 0x7FFF, torque 0x7FFF, temperature 0x0159 = 345 → 34.5 °C.
    fb = rs.decode_feedback(0x02857FFD, bytes.fromhex("80 00 7F FF 7F FF 01 59"), CG)
    assert (fb.motor_id, fb.host_id) == (0x7F, 0xFD)
    assert fb.faults == rs.Fault.UNDER_VOLTAGE | rs.Fault.OVER_TEMPERATURE
    assert rs.Fault.OVER_CURRENT not in fb.faults
    assert fb.mode is rs.MotorMode.RUN
    assert fb.position == pytest.approx(32768 * 8 * math.pi / 65535 - 4 * math.pi)
    assert fb.velocity == pytest.approx(32767 * 60 / 65535 - 30)
    assert fb.temperature_c == pytest.approx(34.5)
    # Every fault bit, calibration mode: data2 = (1 << 14) | (0x3F << 8) | 0x01 = 0x7F01 → ID 0x027F01FD.
    every = rs.decode_feedback(0x027F01FD, bytes(8), CG)
    assert every.faults == rs.Fault(0x3F) and every.mode is rs.MotorMode.CALIBRATION
    assert rs.Fault.UNCALIBRATED in every.faults and rs.Fault.HALL_ENCODER in every.faults
    # Sub-zero temperature reads as negative (int16): 0xFFCE = −50 → −5.0 °C.
    assert rs.decode_feedback(0x02807FFD, bytes.fromhex("00 00 00 00 00 00 FF CE"), CG).temperature_c == -5.0
    with pytest.raises(CodecError, match="mode"):  # mode state 3 is undefined
        rs.decode_feedback(0x02C07FFD, bytes(8), CG)
    assert rs.encode_feedback(
        0x7F, 0xFD, fb.position, fb.velocity, fb.torque, 34.5, CG, faults=fb.faults, mode=fb.mode
    ) == CanFrame(0x02857FFD, bytes.fromhex("80 00 7F FF 7F FF 01 59"), is_extended_id=True)


def test_robstride_enable_stop_zero_exact_frames():
    assert rs.encode_enable(0x7F) == CanFrame(0x0300FD7F, bytes(8), is_extended_id=True)
    assert rs.encode_stop(0x7F, 0xFD) == CanFrame(0x0400FD7F, bytes(8), is_extended_id=True)
    assert rs.encode_stop(0x7F, clear_faults=True).data == bytes.fromhex("01 00 00 00 00 00 00 00")
    assert rs.encode_set_zero(0x01, 0xAA) == CanFrame(0x0600AA01, bytes.fromhex("01 00 00 00 00 00 00 00"), True)
    assert rs.decode_enable(0x0300FD7F, bytes(8)) == rs.Enable(0x7F, 0xFD)
    assert rs.decode_stop(0x0400FD7F, bytes.fromhex("01 00 00 00 00 00 00 00")) == rs.Stop(0x7F, 0xFD, True)
    assert rs.decode_set_zero(0x0600AA01, b"\x01" + bytes(7)) == rs.SetZero(0x01, 0xAA)
    with pytest.raises(CodecError, match=r"data\[0\]"):
        rs.decode_set_zero(0x0600AA01, bytes(8))


def test_robstride_parameter_writes_exact_frames():
    # Type 18 = 0x12: ID 0x1200FD7F; index 0x7005 little-endian "05 70", bytes 2–3 zero, uint8 in byte 4.
    assert rs.encode_set_run_mode(0x7F, rs.RunMode.OPERATION) == CanFrame(
        0x1200FD7F, bytes.fromhex("05 70 00 00 00 00 00 00"), True
    )
    assert rs.encode_set_run_mode(0x7F, rs.RunMode.SPEED).data == bytes.fromhex("05 70 00 00 02 00 00 00")
    # canTimeout 0.5 s = 10000 ticks = 0x00002710 little-endian
    assert rs.encode_set_can_timeout(0x7F, 0.5).data == bytes.fromhex("28 70 00 00 10 27 00 00")
    assert rs.encode_set_can_timeout(0x7F, 0.0).data == bytes.fromhex("28 70 00 00 00 00 00 00")
    # spd_ref = 1.5 rad/s: float32 LE of 1.5 = 00 00 C0 3F
    assert rs.encode_param_write(0x7F, 0x700A, 1.5).data == bytes.fromhex("0A 70 00 00 00 00 C0 3F")
    write = rs.decode_param_write(0x1200FD7F, bytes.fromhex("0A 70 00 00 00 00 C0 3F"))
    assert (write.target_id, write.host_id, write.index, write.value) == (0x7F, 0xFD, 0x700A, 1.5)
    assert rs.decode_param_write(0x1200FD7F, bytes.fromhex("28 70 00 00 10 27 00 00")).value == 10000
    unknown = rs.decode_param_write(0x1200FD7F, bytes.fromhex("99 70 00 00 01 02 03 04"))
    assert unknown.value is None and unknown.raw == bytes.fromhex("01 02 03 04")
    assert rs.encode_param_write(1, 0x7099, 7, dtype=rs.ParamType.UINT16).data == bytes.fromhex(
        "99 70 00 00 07 00 00 00"
    )


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: rs.encode_param_write(1, 0x700A, math.nan), "spd_ref"),
        (lambda: rs.encode_param_write(1, 0x700A, math.inf), "spd_ref"),
        (lambda: rs.encode_param_write(1, 0x700A, 1e40), "spd_ref"),
        (lambda: rs.encode_param_write(1, 0x7005, 256), "run_mode"),
        (lambda: rs.encode_param_write(1, 0x7005, 1.5), "run_mode"),
        (lambda: rs.encode_param_write(1, 0x7019, 0.0), "index"),  # mechPos is read-only
        (lambda: rs.encode_param_write(1, 0x7099, 1.0), "index"),  # unknown index, no dtype
        (lambda: rs.encode_set_run_mode(1, 4), "run_mode"),
        (lambda: rs.encode_set_can_timeout(1, -0.1), "timeout_s"),
        (lambda: rs.encode_set_can_timeout(1, math.nan), "timeout_s"),
        (lambda: rs.encode_enable(256), "target_id"),
        (lambda: rs.encode_enable(1, host_id=-1), "host_id"),
    ],
)
def test_robstride_bad_parameter_values_are_rejected_naming_the_field(call, field):
    with pytest.raises(CodecError) as err:
        call()
    assert err.value.field == field


def test_robstride_parameter_read_request_and_reply():
    request = rs.encode_param_read(0x7F, 0x7019)
    assert request == CanFrame(0x1100FD7F, bytes.fromhex("19 70 00 00 00 00 00 00"), True)
    assert rs.decode_param_read(request.arbitration_id, request.data) == rs.ParamRead(0x7F, 0xFD, 0x7019)
    # Reply: data2 = motor id, target = host id; mechPos = −1.0 rad (float32 LE 00 00 80 BF)
    reply = rs.encode_param_value(0x7F, 0xFD, 0x7019, -1.0)
    assert reply == CanFrame(0x11007FFD, bytes.fromhex("19 70 00 00 00 00 80 BF"), True)
    value = rs.decode_param_value(reply.arbitration_id, reply.data)
    assert (value.motor_id, value.host_id, value.index, value.value) == (0x7F, 0xFD, 0x7019, -1.0)
    assert rs.decode_frame(reply.arbitration_id, reply.data, CG, from_motor=True) == value


def test_robstride_decode_frame_dispatches_every_encoded_frame():
    frames = {
        rs.MotionCommand: rs.encode_motion_control(3, 1.0, 2.0, 30.0, 1.0, 0.5, CG)[0],
        rs.Feedback: rs.encode_feedback(3, 0xFD, 1.0, 2.0, 0.5, 30.0, CG),
        rs.Enable: rs.encode_enable(3),
        rs.Stop: rs.encode_stop(3),
        rs.SetZero: rs.encode_set_zero(3),
        rs.ParamRead: rs.encode_param_read(3, 0x7005),
        rs.ParamWrite: rs.encode_set_run_mode(3, rs.RunMode.CURRENT),
    }
    for kind, frame in frames.items():
        assert isinstance(rs.decode_frame(frame.arbitration_id, frame.data, CG), kind)
    with pytest.raises(CodecError, match="communication type"):
        rs.decode_frame(rs.make_arbitration_id(rs.CommType.FAULT_FEEDBACK, 0xFD, 1), bytes(8), CG)
    with pytest.raises(CodecError, match="communication type 2"):
        rs.decode_feedback(0x0300FD7F, bytes(8), CG)
    with pytest.raises(CodecError, match="8 bytes"):
        rs.decode_enable(0x0300FD7F, bytes(7))
    with pytest.raises(CodecError, match="arbitration_id"):
        rs.split_arbitration_id(1 << 29)
    with pytest.raises(CodecError, match="data2"):
        rs.make_arbitration_id(1, 0x10000, 0)
    assert rs.split_arbitration_id(0x02857FFD) == (2, 0x857F, 0xFD)


# ---------------------------------------------------------------------------------------------------------
# Robstride / CyberGear: clamp before pack, round trips over every model table
# ---------------------------------------------------------------------------------------------------------


def test_robstride_out_of_range_targets_saturate_and_non_finite_is_rejected():
    frame, sent = rs.encode_motion_control(1, 20.0, -1e9, 1e9, 1e9, 1e9, CG)
    assert frame.data == bytes.fromhex("FF FF 00 00 FF FF FF FF")
    assert (frame.arbitration_id >> 8) & 0xFFFF == 0xFFFF
    assert sent.position == pytest.approx(4 * math.pi) and sent.velocity == -30.0
    for index, name in enumerate(FIELDS):
        args = [0.0] * 5
        args[index] = math.nan
        with pytest.raises(ValueError, match=f"'{name}'"):
            rs.encode_motion_control(1, *args, CG)
    with pytest.raises(CodecError, match="'temperature_c'"):
        rs.encode_feedback(1, 0xFD, 0, 0, 0, math.inf, CG)


@PROPERTY
@given(
    model=st.sampled_from(sorted(rs.ROBSTRIDE_LIMITS)),
    target=st.integers(0, 255),
    p=value,
    v=value,
    kp=value,
    kd=value,
    t=value,
)
def test_robstride_motion_round_trip_within_one_step(model, target, p, v, kp, kd, t):
    limits = rs.ROBSTRIDE_LIMITS[model]
    frame, sent = rs.encode_motion_control(target, p, v, kp, kd, t, limits)
    decoded = rs.decode_frame(frame.arbitration_id, frame.data, limits)
    assert decoded == sent
    assert isinstance(decoded, rs.MotionCommand) and decoded.target_id == target
    steps = rs.quantization_steps(limits)
    for name, requested in zip(FIELDS, (p, v, kp, kd, t), strict=True):
        lo, hi = _ranges(limits)[name]
        _assert_within_one_step(getattr(decoded, name), requested, lo, hi, getattr(steps, name), f"{model}.{name}")


@PROPERTY
@given(
    model=st.sampled_from(sorted(rs.ROBSTRIDE_LIMITS)),
    ids=st.tuples(st.integers(0, 255), st.integers(0, 255)),
    p=value,
    v=value,
    t=value,
    temp=st.floats(-40.0, 200.0),
    faults=st.integers(0, 0x3F),
    mode=st.sampled_from(list(rs.MotorMode)),
)
def test_robstride_feedback_round_trip(model, ids, p, v, t, temp, faults, mode):
    limits = rs.ROBSTRIDE_LIMITS[model]
    frame = rs.encode_feedback(*ids, p, v, t, temp, limits, faults=rs.Fault(faults), mode=mode)
    fb = rs.decode_frame(frame.arbitration_id, frame.data, limits, from_motor=True)
    assert isinstance(fb, rs.Feedback)
    assert (fb.motor_id, fb.host_id, int(fb.faults), fb.mode) == (*ids, faults, mode)
    assert fb.temperature_c == pytest.approx(temp, abs=0.05 + 1e-9)
    steps = rs.quantization_steps(limits)
    _assert_within_one_step(fb.position, p, limits.p_min, limits.p_max, steps.position, "position")
    _assert_within_one_step(fb.velocity, v, limits.v_min, limits.v_max, steps.velocity, "velocity")
    _assert_within_one_step(fb.torque, t, limits.t_min, limits.t_max, steps.torque_ff, "torque")


@PROPERTY
@given(index=st.sampled_from(sorted(i for i, s in rs.PARAMS.items() if s.writable)), data=st.data())
def test_robstride_param_write_round_trip(index, data):
    spec = rs.PARAMS[index]
    if spec.dtype is rs.ParamType.FLOAT:
        x = data.draw(st.floats(-1e6, 1e6, width=32))
    else:
        fmt = spec.dtype.value
        bits = 8 * struct.calcsize(fmt)
        lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if fmt == "<h" else (0, (1 << bits) - 1)
        x = data.draw(st.integers(lo, hi))
    frame = rs.encode_param_write(0x10, index, x, 0xFD)
    write = rs.decode_frame(frame.arbitration_id, frame.data, CG)
    assert isinstance(write, rs.ParamWrite)
    assert (write.target_id, write.host_id, write.index, write.value) == (0x10, 0xFD, index, x)


# ---------------------------------------------------------------------------------------------------------
# Decode → encode is exact (republishing what was sent reproduces the same bytes)
# ---------------------------------------------------------------------------------------------------------

ALL_LIMITS = sorted({*mit.MIT_LIMITS.values(), *rs.ROBSTRIDE_LIMITS.values()}, key=repr)


@PROPERTY
@given(limits=st.sampled_from(ALL_LIMITS), bits=st.sampled_from([12, 16]), data=st.data())
def test_uint_round_trip_is_exact(limits, bits, data):
    k = data.draw(st.integers(0, (1 << bits) - 1))
    for lo, hi in _ranges(limits).values():
        assert float_to_uint(uint_to_float(k, lo, hi, bits), lo, hi, bits) == k


@PROPERTY
@given(model=st.sampled_from(sorted(mit.MIT_LIMITS)), data=st.binary(min_size=8, max_size=8))
def test_mit_reencoding_a_decoded_command_gives_the_same_bytes(model, data):
    limits = mit.MIT_LIMITS[model]
    decoded = mit.decode_host_frame(data, limits)
    if isinstance(decoded, mit.MitSpecial):
        assert decoded.value == data
        return
    c = decoded
    assert mit.pack_command(c.position, c.velocity, c.kp, c.kd, c.torque_ff, limits) == data


@PROPERTY
@given(
    model=st.sampled_from(sorted(rs.ROBSTRIDE_LIMITS)), t=st.integers(0, 0xFFFF), data=st.binary(min_size=8, max_size=8)
)
def test_robstride_reencoding_a_decoded_command_gives_the_same_frame(model, t, data):
    limits = rs.ROBSTRIDE_LIMITS[model]
    arb = rs.make_arbitration_id(rs.CommType.MOTION_CONTROL, t, 0x42)
    c = rs.decode_motion_control(arb, data, limits)
    frame, _ = rs.encode_motion_control(c.target_id, c.position, c.velocity, c.kp, c.kd, c.torque_ff, limits)
    assert (frame.arbitration_id, frame.data) == (arb, data)


# ---------------------------------------------------------------------------------------------------------
# Batch encoders (numpy, all motors of one protocol at once) equal the scalar codecs byte for byte
# ---------------------------------------------------------------------------------------------------------


def _edges(lo: float, hi: float) -> list[float]:
    """Range ends, their float neighbours, zeros and far-outside values of one field."""
    ends = [lo, hi, math.nextafter(lo, -math.inf), math.nextafter(lo, math.inf)]
    return [*ends, math.nextafter(hi, -math.inf), math.nextafter(hi, math.inf), 0.0, -0.0, 1e3, -1e3, 1e300, -1e300]


@st.composite
def _batch(draw, tables: dict[str, MotorLimits], bits: tuple[int, ...]):
    """(models, values (5, n)) for 1..30 motors of random models: anything finite, edges, exact step values."""
    models = draw(st.lists(st.sampled_from(sorted(tables)), min_size=1, max_size=30))
    values = np.empty((5, len(models)))
    for i, model in enumerate(models):
        for row, (lo, hi) in enumerate(_ranges(tables[model]).values()):
            step = st.integers(0, (1 << bits[row]) - 1).map(
                lambda k, lo=lo, hi=hi, b=bits[row]: uint_to_float(k, lo, hi, b)
            )
            values[row, i] = draw(st.one_of(value, st.floats(-1e3, 1e3), st.sampled_from(_edges(lo, hi)), step))
    return models, values


def _scalar_sent(commands) -> np.ndarray:
    return np.array([[c.position, c.velocity, c.kp, c.kd, c.torque_ff] for c in commands]).T.reshape(5, -1)


@PROPERTY
@given(batch=_batch(mit.MIT_LIMITS, mit.MitTable.bits))
def test_mit_batch_encoding_equals_the_scalar_codec(batch):
    models, values = batch
    limits = [mit.MIT_LIMITS[m] for m in models]
    payloads, sent = mit.encode_commands(*values, mit.mit_table(limits))
    scalar = [mit.encode_command(*values[:, i], lim) for i, lim in enumerate(limits)]
    assert payloads.dtype == np.uint8 and payloads.shape == (len(models), 8)
    assert [row.tobytes() for row in payloads] == [data for data, _ in scalar]
    assert sent.shape == (5, len(models)) and np.array_equal(sent, _scalar_sent(c for _, c in scalar))


@PROPERTY
@given(batch=_batch(rs.ROBSTRIDE_LIMITS, rs.RobstrideTable.bits), data=st.data())
def test_robstride_batch_encoding_equals_the_scalar_codec(batch, data):
    models, values = batch
    ids = np.array(data.draw(st.lists(st.integers(0, 255), min_size=len(models), max_size=len(models))))
    limits = [rs.ROBSTRIDE_LIMITS[m] for m in models]
    arbitration_ids, payloads, sent = rs.encode_motion_controls(ids, *values, rs.robstride_table(limits))
    scalar = [rs.encode_motion_control(int(ids[i]), *values[:, i], lim) for i, lim in enumerate(limits)]
    assert arbitration_ids.tolist() == [frame.arbitration_id for frame, _ in scalar]
    assert payloads.dtype == np.uint8 and [row.tobytes() for row in payloads] == [frame.data for frame, _ in scalar]
    assert np.array_equal(sent, _scalar_sent(c for _, c in scalar))


def test_mit_batch_avoids_special_frames_like_the_scalar():
    # All maxima with t_int 0xFFC / 0xFFD / 0xFFE would read as enter / exit motor mode / set zero.
    limits = [MC, mit.AK10_9, MC, mit.AK70_10]
    t = [
        uint_to_float(k, lim.t_min, lim.t_max, 12) for k, lim in zip((0xFFC, 0xFFD, 0xFFE, 0xFFC), limits, strict=True)
    ]
    values = np.array([[lim.p_max, lim.v_max, lim.kp_max, lim.kd_max, tk] for lim, tk in zip(limits, t, strict=True)]).T
    payloads, sent = mit.encode_commands(*values, mit.mit_table(limits))
    scalar = [mit.encode_command(*values[:, i], lim) for i, lim in enumerate(limits)]
    assert [row.tobytes() for row in payloads] == [data for data, _ in scalar]
    assert not {row.tobytes() for row in payloads} & set(mit.SPECIAL_FRAMES)
    assert payloads[0].tobytes() == bytes.fromhex("FF FE FF FF FF FF FF FC")
    assert np.array_equal(sent, _scalar_sent(c for _, c in scalar))


def test_batch_clamps_before_packing_so_20_rad_never_wraps():
    mit_payloads, mit_sent = mit.encode_commands(
        np.array([20.0, -20.0, 0.0]), 0.0, 0.0, 0.0, 0.0, mit.mit_table([MC, MC, MC])
    )
    assert [row[:2].tobytes() for row in mit_payloads] == [b"\xff\xff", b"\x00\x00", b"\x7f\xff"]
    assert mit_sent[0].tolist() == [12.5, -12.5, pytest.approx(32767 * 25 / 65535 - 12.5)]
    ids, rs_payloads, rs_sent = rs.encode_motion_controls(
        np.array([1, 2]), np.array([20.0, -20.0]), 0.0, 0.0, 0.0, np.array([1e9, -1e9]), rs.robstride_table([CG, CG])
    )
    assert [row[:2].tobytes() for row in rs_payloads] == [b"\xff\xff", b"\x00\x00"]
    assert rs_sent[0].tolist() == pytest.approx([4 * math.pi, -4 * math.pi])
    assert ids.tolist() == [0x01FFFF01, 0x01000002]  # torque saturates at t_max / t_min in data area 2


@pytest.mark.parametrize("index", range(5))
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_batch_non_finite_field_is_rejected_naming_motor_and_field(index, bad):
    values = np.zeros((5, 4))
    values[index, 2] = bad
    for encode, single in (
        (lambda: mit.encode_commands(*values, mit.mit_table([MC] * 4)), lambda: mit.encode_command(*values[:, 2], MC)),
        (
            lambda: rs.encode_motion_controls(np.arange(4), *values, rs.robstride_table([CG] * 4)),
            lambda: rs.encode_motion_control(2, *values[:, 2], CG),
        ),
    ):
        with pytest.raises(CodecError) as batch_err:
            encode()
        with pytest.raises(CodecError) as scalar_err:
            single()
        assert batch_err.value.field == f"{FIELDS[index]}[2]" == f"{scalar_err.value.field}[2]"
        assert batch_err.value.expected == scalar_err.value.expected
        assert f"'{FIELDS[index]}[2]'" in str(batch_err.value)


def test_batch_reports_the_first_bad_motor_and_the_field_the_scalar_checks_first():
    values = np.zeros((5, 4))
    values[0, 1], values[4, 1], values[1, 3] = math.nan, math.inf, math.nan  # motor 1: position and torque
    with pytest.raises(CodecError, match=r"'position\[1\]'"):  # MIT checks position first
        mit.encode_commands(*values, mit.mit_table([MC] * 4))
    with pytest.raises(CodecError, match=r"'torque_ff\[1\]'"):  # encode_motion_control checks torque first
        rs.encode_motion_controls(np.arange(4), *values, rs.robstride_table([CG] * 4))
    with pytest.raises(CodecError, match=r"'target_id\[1\]' is 256"):  # ... and the target id before that
        rs.encode_motion_controls(np.array([0, 256, 2, 3]), *values, rs.robstride_table([CG] * 4))
    with pytest.raises(CodecError, match=r"'position\[left_knee\]'"):  # labels name the motors
        mit.encode_commands(*values, mit.mit_table([MC] * 4, labels=["a", "left_knee", "b", "c"]))


def test_batch_tables_shapes_and_types_are_checked():
    assert mit.encode_commands([], [], [], [], [], mit.mit_table([]))[0].shape == (0, 8)
    with pytest.raises(CodecError, match="'velocity'"):
        mit.encode_commands(np.zeros(2), np.zeros(3), 0.0, 0.0, 0.0, mit.mit_table([MC, MC]))
    with pytest.raises(CodecError, match="target_ids"):
        rs.encode_motion_controls(np.array([1.0, 2.0]), 0.0, 0.0, 0.0, 0.0, 0.0, rs.robstride_table([CG, CG]))
    with pytest.raises(TypeError, match="MitTable"):
        mit.encode_commands(0.0, 0.0, 0.0, 0.0, 0.0, rs.robstride_table([CG]))
    with pytest.raises(CodecError, match="labels"):
        rs.robstride_table([CG], labels=["a", "b"])


def test_can_bus_write_command_sends_the_scalar_codec_frames():
    spec = RobotSpec.load("testbed_biped")
    config = HardwareConfig.load(spec.source.parent / "hardware.yaml", spec)
    channel = f"codec_{uuid.uuid4().hex[:12]}"
    taps = [can.Bus(interface="virtual", channel=f"{channel}-{b.name}") for b in config.buses]  # one per bus
    bus = CanActuatorBus(config, open_link(config, interface="virtual", channel=channel))
    rng = np.random.default_rng(0)
    commands = [JointCommand.hold(spec)] + [JointCommand(*rng.normal(0, s, (5, 12))) for s in (0.3, 30, 3e3)]
    try:
        for command in commands:
            sent = bus.write_command(command, 0.0)
            got = []
            for tap in taps:  # buses in config order: the shipped wiring puts 3 consecutive joints on each
                while (msg := tap.recv(timeout=0)) is not None:
                    got.append((msg.arbitration_id, msg.is_extended_id, bytes(msg.data)))
            motor, expected, scalar = to_motor(config, command), [], []
            for i, m in enumerate(config.motors):
                args = (motor.q[i], motor.dq[i], motor.kp[i], motor.kd[i], motor.tau_ff[i], m.limits)
                if m.protocol == "mit":
                    data, c = mit.encode_command(*args)
                    expected.append((m.can_id, False, data))
                else:
                    frame, c = rs.encode_motion_control(m.can_id, *args)
                    expected.append((frame.arbitration_id, True, frame.data))
                scalar.append(c)
            assert got == expected  # one frame per motor on its own bus, in motor order, the scalar codecs' bytes
            want = to_joint(config, JointCommand(*_scalar_sent(scalar)))
            for field in ("q", "dq", "kp", "kd", "tau_ff"):
                assert np.array_equal(getattr(sent, field), getattr(want, field))
        bad = JointCommand.hold(spec)
        bad.q[spec.joint_names.index("right_knee")] = math.nan
        with pytest.raises(CodecError, match=r"'position\[right_knee\]'"):
            bus.write_command(bad, 0.0)
        assert all(tap.recv(timeout=0) is None for tap in taps)  # a rejected command sends nothing
    finally:
        bus.close()
        for tap in taps:
            tap.shutdown()


@pytest.mark.parametrize("compiled", [True, False], ids=["c_core", "numpy"])
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_can_bus_read_state_decodes_like_the_scalar_codecs(compiled, seed):
    """Random replies on every bus (plus other traffic) → read_state equals scalar decoding, C core and numpy."""
    import physai.drivers.can_bus as can_bus

    spec = RobotSpec.load("testbed_biped")
    config = HardwareConfig.load(spec.source.parent / "hardware.yaml", spec)
    channel = f"read_{uuid.uuid4().hex[:12]}"
    motors = [can.Bus(interface="virtual", channel=f"{channel}-{b.name}") for b in config.buses]
    saved = can_bus._cancore
    if not compiled:
        can_bus._cancore = None
    bus = CanActuatorBus(config, open_link(config, interface="virtual", channel=channel))
    rng = np.random.default_rng(seed)
    try:
        want = {}
        buses = config.bus_index.tolist()
        for i, m in enumerate(config.motors):
            data = bytes(rng.integers(0, 256, 8, dtype=np.uint8))
            if m.protocol == "mit":
                data = bytes((m.can_id,)) + data[1:]
                frame = CanFrame(0, data)  # MIT replies go to the host id 0
                r = mit.unpack_reply(data, m.limits)
                want[i] = (r.position, r.velocity, r.torque, r.temperature_c, r.error)
            else:
                mode = int(rng.integers(0, 3))  # 3 is undefined: tested below
                faults = int(rng.integers(0, 0x40))
                arbitration_id = rs.make_arbitration_id(
                    rs.CommType.FEEDBACK, (mode << 14) | (faults << 8) | m.can_id, 0xFD
                )
                frame = CanFrame(arbitration_id, data, True)
                fb = rs.decode_feedback(arbitration_id, data, m.limits)
                want[i] = (fb.position, fb.velocity, fb.torque, fb.temperature_c, int(fb.faults))
            send = motors[buses[i]]
            send.send(
                can.Message(arbitration_id=frame.arbitration_id, data=frame.data, is_extended_id=frame.is_extended_id)
            )
            # traffic that is not a reply of ours: our own command id, another motor's id, a type-1 frame
            send.send(can.Message(arbitration_id=m.can_id, data=bytes(8), is_extended_id=False))
            send.send(can.Message(arbitration_id=0, data=bytes((99,)) + bytes(7), is_extended_id=False))
        bad = rs.make_arbitration_id(rs.CommType.FEEDBACK, (3 << 14) | config.motors[6].can_id, 0xFD)
        motors[buses[6]].send(can.Message(arbitration_id=bad, data=bytes(8), is_extended_id=True))  # mode 3
        got = bus.read_state(1.0)
        motor = (bus._position, bus._velocity, bus._torque)
        for i, (p, v, t, temp, err) in want.items():
            assert (motor[0][i], motor[1][i], motor[2][i]) == (p, v, t)
            assert (np.isnan(got.temperature_c[i]) and temp is None) or got.temperature_c[i] == temp
            assert got.error[i] == err
        assert got.fresh.all() and (got.age_s == 0.0).all()
        assert bus.counters["replies"] == 12 and bus.counters["decode_errors"] == 1
    finally:
        can_bus._cancore = saved
        bus.close()
        for m in motors:
            m.shutdown()
