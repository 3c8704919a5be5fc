"""CAN wire-time and bus-load model: hand-computed frame lengths, CRC-15, load checks, wire clock."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from physai.drivers.busload import (
    REFUSE_LOAD,
    WARN_LOAD,
    BusLoad,
    BusLoadError,
    bus_load,
    check_bus_loads,
    crc15,
    fd_payload_length,
    fd_worst_case_frame_time_s,
    frame_bits,
    frame_bits_unstuffed,
    stuff_bit_count,
    unstuffed_frame_bits,
    worst_case_frame_bits,
)

MBIT = 1_000_000


def _crc15_by_division(bits: list[int]) -> int:
    """Independent reference: remainder of M(x)·x^15 divided by x^15 + 0x4599, as integer long division."""
    value = int("".join(map(str, bits)) or "0", 2) << 15
    divisor = (1 << 15) | 0x4599
    for shift in range(value.bit_length() - 16, -1, -1):
        if value >> (shift + 15) & 1:
            value ^= divisor << shift
    return value


def _stuff(bits: list[int]) -> list[int]:
    out, run, last = [], 0, -1
    for b in bits:
        out.append(b)
        run = run + 1 if b == last else 1
        last = b
        if run == 5:
            out.append(1 - b)
            last, run = 1 - b, 1
    return out


# ---- classic frame lengths -------------------------------------------------------------------------------------


def test_worst_case_and_unstuffed_formulas():
    assert worst_case_frame_bits(8, extended=False) == 135
    assert worst_case_frame_bits(8, extended=True) == 160
    assert worst_case_frame_bits(0, extended=False) == 55
    assert unstuffed_frame_bits(8, extended=False) == 111
    assert unstuffed_frame_bits(8, extended=True) == 131
    assert unstuffed_frame_bits(0, extended=False) == 47
    with pytest.raises(ValueError):
        worst_case_frame_bits(9, extended=False)


def test_layout_lengths_and_fields():
    std = frame_bits_unstuffed(0x7FF, b"\x01\x02", extended=False)
    assert len(std) == 34 + 16
    assert std[0] == 0 and std[1:12] == [1] * 11 and std[12:15] == [0, 0, 0] and std[15:19] == [0, 0, 1, 0]
    ext = frame_bits_unstuffed(0x1FFFFFFF, b"", extended=True)
    assert len(ext) == 54
    # SOF, base id (11 ones), SRR=1, IDE=1, extension (18 ones), RTR=0, r1=0, r0=0, DLC=0000
    assert ext[:39] == [0] + [1] * 11 + [1, 1] + [1] * 18 + [0, 0, 0] + [0, 0, 0, 0]
    with pytest.raises(ValueError):
        frame_bits_unstuffed(0x800, b"", extended=False)
    with pytest.raises(ValueError):
        frame_bits_unstuffed(1 << 29, b"", extended=True)
    with pytest.raises(ValueError):
        frame_bits_unstuffed(0, bytes(9), extended=False)


def test_all_zero_standard_frame():
    # id 0x000, 8 zero bytes. Unstuffed: SOF+id+RTR+IDE+r0 = 15 zeros, DLC 1000, 64 zeros, CRC 001010001011011.
    bits = frame_bits_unstuffed(0x000, bytes(8), extended=False)
    assert crc15(bits[:-15]) == 0b001010001011011
    # Stuffing by hand: 15 zeros -> 3 stuff bits (each a '1'); DLC '1' continues that run (2 ones);
    # DLC '000' + 2 data zeros -> 1 stuff; the remaining 62 zeros -> 12 stuff, 2 zeros left over;
    # CRC starts '00' -> run of 4 zeros then '1'; no other run of 5 in the CRC. Total 3 + 1 + 12 = 16.
    assert stuff_bit_count(bits) == 16
    assert frame_bits(0x000, bytes(8), extended=False) == 98 + 16 + 13 == 127


def test_alternating_standard_frame():
    # id 0x555 (10101010101), RTR/IDE/r0 000, DLC 1000, data 0x55 * 8 (0101...01), CRC 001101100000100.
    bits = frame_bits_unstuffed(0x555, bytes([0x55] * 8), extended=False)
    assert crc15(bits[:-15]) == 0b001101100000100
    # Longest runs before the CRC: '000' + DLC '1', then DLC '000' + data '0' = 4 zeros -> no stuffing.
    # CRC '0011011' then '00000' -> one stuff bit ('1'), then '100'. Total 1.
    assert stuff_bit_count(bits) == 1
    assert frame_bits(0x555, bytes([0x55] * 8), extended=False) == 98 + 1 + 13 == 112


def test_extended_robstride_like_frame():
    # id 0x0100FD0B: base = 0x040 (00001000000), extension = 0x0FD0B (001111110100001011); 8 zero bytes.
    bits = frame_bits_unstuffed(0x0100FD0B, bytes(8), extended=True)
    assert bits[1:12] == [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    assert bits[14:32] == [int(c) for c in "001111110100001011"]
    assert crc15(bits[:-15]) == 0b000010111111001
    # By hand: SOF + base '0000' -> stuff 1; base '1', then '000000' -> stuff 2; SRR IDE '11', ext '00',
    # ext '111111' -> stuff 3 after the 5th one; rest of ext has no run of 5; RTR r1 r0 '000', DLC '1',
    # DLC '000' + 64 data zeros = 67 zeros -> 13 stuff (16 so far), 2 zeros left; CRC '000' completes 5 -> stuff 17;
    # CRC '0 1 0' then '111111' -> stuff 18; then '001'. Total 18.
    assert stuff_bit_count(bits) == 18
    assert frame_bits(0x0100FD0B, bytes(8), extended=True) == 118 + 18 + 13 == 149


@given(
    extended=st.booleans(),
    raw_id=st.integers(min_value=0, max_value=(1 << 29) - 1),
    data=st.binary(min_size=0, max_size=8),
)
def test_exact_bits_between_unstuffed_and_worst_case(extended: bool, raw_id: int, data: bytes):
    aid = raw_id if extended else raw_id & 0x7FF
    n = frame_bits(aid, data, extended=extended)
    assert (
        unstuffed_frame_bits(len(data), extended=extended) <= n <= worst_case_frame_bits(len(data), extended=extended)
    )


@given(
    extended=st.booleans(),
    raw_id=st.integers(min_value=0, max_value=(1 << 29) - 1),
    data=st.binary(min_size=0, max_size=8),
)
def test_crc15_matches_division_and_has_zero_residue(extended: bool, raw_id: int, data: bytes):
    bits = frame_bits_unstuffed(raw_id if extended else raw_id & 0x7FF, data, extended=extended)
    message, crc_bits = bits[:-15], bits[-15:]
    assert crc15(message) == _crc15_by_division(message)
    assert crc15(message + crc_bits) == 0  # message followed by its CRC divides evenly


@given(st.lists(st.integers(min_value=0, max_value=1), max_size=200))
def test_stuffed_stream_never_has_six_identical_bits(bits: list[int]):
    stuffed = _stuff(bits)
    assert len(stuffed) - len(bits) == stuff_bit_count(bits)
    text = "".join(map(str, stuffed))
    assert "000000" not in text and "111111" not in text
    assert stuff_bit_count(bits) <= max(len(bits) - 1, 0) // 4


def test_crc15_known_value():
    assert crc15([]) == 0
    assert crc15([1]) == 0x4599  # a single 1 bit leaves the generator itself
    assert crc15([1, 0]) == _crc15_by_division([1, 0])


# ---- CAN FD ----------------------------------------------------------------------------------------------------


def test_fd_payload_lengths():
    assert [fd_payload_length(n) for n in (0, 8, 9, 12, 13, 17, 33, 64)] == [0, 8, 12, 12, 16, 20, 48, 64]
    with pytest.raises(ValueError):
        fd_payload_length(65)


def test_fd_frame_times():
    # 8 bytes, standard, no BRS: arbitration 17 + 4 stuff + tail 12 = 33; ESI+DLC+data 69, dynamic stuff
    # floor((17+69-1)/4) - 4 = 17; CRC field 4 + 6 fixed stuff + 17 + delimiter = 28 -> 33 + 69 + 17 + 28 = 147.
    t = fd_worst_case_frame_time_s(8, extended=False, nominal_bitrate=MBIT, data_bitrate=5 * MBIT, brs=False)
    assert t == pytest.approx(147e-6)
    # 64 bytes with BRS 1/5 Mbit/s: 33 nominal bits; data 517 + (floor(533/4) - 4 = 129) + (4 + 7 + 21 + 1 = 33).
    t = fd_worst_case_frame_time_s(64, extended=False, nominal_bitrate=MBIT, data_bitrate=5 * MBIT)
    assert t == pytest.approx(33e-6 + 679 / 5e6)
    # extended: arbitration 36 + floor(35/4) = 8 stuff + 12 = 56; data 69 + (floor(104/4) - 8 = 18) + 28 = 115 -> 171
    t_ext = fd_worst_case_frame_time_s(8, extended=True, nominal_bitrate=MBIT, data_bitrate=MBIT, brs=False)
    assert t_ext == pytest.approx(171e-6)
    assert t_ext > fd_worst_case_frame_time_s(8, extended=True, nominal_bitrate=MBIT, data_bitrate=2 * MBIT)


# ---- bus load --------------------------------------------------------------------------------------------------


def test_three_mit_motors_at_1khz_warns():
    load = bus_load("left_leg", [(8, False)] * 6, 1e-3, bitrate=MBIT)
    assert load.wire_time_s == pytest.approx(810e-6)
    assert load.load == pytest.approx(0.81)
    assert WARN_LOAD < load.load <= REFUSE_LOAD
    warnings = check_bus_loads([load, bus_load("arm", [(8, False)] * 2, 1e-3, bitrate=MBIT)])
    assert len(warnings) == 1
    assert "left_leg" in warnings[0] and "81%" in warnings[0] and "810 µs" in warnings[0] and "70%" in warnings[0]


def test_twelve_motors_at_500hz_refused():
    load = bus_load("left_leg", [(8, False)] * 24, 2e-3, bitrate=MBIT)
    assert load.load == pytest.approx(24 * 135e-6 / 2e-3)  # 162 %
    with pytest.raises(BusLoadError) as err:
        check_bus_loads([load])
    msg = str(err.value)
    assert isinstance(err.value, ValueError)
    assert "bus 'left_leg'" in msg and "162%" in msg and "3240 µs" in msg and "2.00 ms" in msg
    assert "1000000 bit/s" in msg and "100%" in msg


def test_fd_bus_load_and_validation():
    load = bus_load("fd", [(8, False)] * 2, 1e-3, bitrate=MBIT, fd=True, data_bitrate=5 * MBIT)
    per = fd_worst_case_frame_time_s(8, extended=False, nominal_bitrate=MBIT, data_bitrate=5 * MBIT)
    assert load.wire_time_s == pytest.approx(2 * per)
    assert load.data_bitrate == 5 * MBIT
    assert bus_load("fd", [(8, False)], 1e-3, bitrate=MBIT, fd=True).data_bitrate is None
    assert check_bus_loads([BusLoad("idle", 0.0, 1e-3, MBIT, 0)]) == []
    with pytest.raises(ValueError):
        bus_load("x", [], 0.0, bitrate=MBIT)


# ---- the check on hardware.yaml (physai.drivers.config) -----------------------------------------------------


def _biped_wiring():
    import yaml

    from physai.robot.spec import RobotSpec

    spec = RobotSpec.load("testbed_biped")
    return spec, yaml.safe_load((spec.source.parent / "hardware.yaml").read_text())


def test_shipped_biped_wiring_fits_1khz_and_an_all_on_one_bus_wiring_is_refused():
    from physai.drivers.config import HardwareConfig

    spec, data = _biped_wiring()
    config = HardwareConfig.from_dict(data, spec, "hardware.yaml")
    assert [round(load.load, 2) for load in config.bus_loads()] == [0.81, 0.81, 0.96, 0.96]  # 6×135, 6×160 bits / 1 ms
    assert len(config.check_bus_load()) == 4  # every bus above 70 %: warned, not refused
    assert config.check_bus_load(500.0) == []
    one = {k: v for k, v in data.items() if k != "buses"}
    one["bus"] = {"interface": "socketcan", "channel": "can0", "bitrate": 1_000_000}
    one["motors"] = [{k: v for k, v in m.items() if k != "bus"} for m in data["motors"]]
    one["rate_hz"] = 500
    # 6 MIT (2 × 135 bits) + 6 Robstride (2 × 160 bits) = 3540 bits = 3.54 ms per 2 ms period
    with pytest.raises(
        BusLoadError, match=r"hardware\.yaml at 500 Hz: bus 'can': 177% load \(3540 µs of wire time per 2\.00 ms period"
    ):
        HardwareConfig.from_dict(one, spec, "hardware.yaml")


def test_buses_are_validated_by_name_and_ids_are_per_bus():
    from physai.drivers.config import HardwareConfig, HardwareConfigError

    spec, data = _biped_wiring()
    bad = {**data, "motors": [{**data["motors"][0], "bus": "can7"}, *data["motors"][1:]]}
    with pytest.raises(HardwareConfigError, match=r"motors\[0\]\.bus' is 'can7'; expected one of the buses"):
        HardwareConfig.from_dict(bad, spec, "hw")
    same_id = [dict(m) for m in data["motors"]]
    same_id[3]["can_id"] = same_id[0]["can_id"]  # left_knee on bus left_lower takes left_hip_yaw's id 1: fine
    assert HardwareConfig.from_dict({**data, "motors": same_id}, spec, "hw").motors[3].can_id == 1
    same_id[1]["can_id"] = same_id[0]["can_id"]  # the same bus: refused
    with pytest.raises(
        HardwareConfigError, match=r"can_id' is 1; expected an id not used by left_hip_yaw on bus 'left_hip'"
    ):
        HardwareConfig.from_dict({**data, "motors": same_id}, spec, "hw")
    with pytest.raises(HardwareConfigError, match="either a list `buses`"):
        HardwareConfig.from_dict({**data, "bus": {"interface": "virtual"}}, spec, "hw")
