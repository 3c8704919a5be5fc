"""VirtualMotorBank on a python-can `virtual` bus: the host side of each test sends and reads real bytes.

testbed_biped hardware: left leg MIT (AK10-9 / AK70-10, ids 1–6), right leg Robstride (RS03 / RS01, ids
11–16); left_hip_pitch (id 3) has direction −1, right_knee (id 14) zero_offset_rad −1.0.
"""

import uuid

import can
import mujoco
import numpy as np
import pytest
import yaml

from physai.drivers import mit, robstride
from physai.drivers.config import HardwareConfig
from physai.drivers.frame import CanFrame
from physai.hil.faults import FaultConfig, FaultConfigError
from physai.hil.virtual_motors import VirtualMotorBank
from physai.robot.spec import RobotSpec
from physai.sim.simulator import Simulator

SPEC = RobotSpec.load("testbed_biped")


def one_bus(path, rate_hz=200):
    """The shipped wiring with every motor on one bus (one virtual channel per rig); a slow loop fits it."""
    data = yaml.safe_load(path.read_text())
    data.pop("buses")
    for motor in data["motors"]:
        motor.pop("bus")
    return HardwareConfig.from_dict({**data, "bus": {"interface": "virtual"}, "rate_hz": rate_hz}, SPEC)


HW = one_bus(SPEC.source.parent / "hardware.yaml")
HOST = HW.host_id
AK10_9 = mit.limits_for("AK10-9")
RS03 = robstride.limits_for("RS03")
J = {name: i for i, name in enumerate(SPEC.joint_names)}
L_KNEE, L_ANKLE, L_HIP_PITCH, R_KNEE = 4, 5, 3, 14  # CAN ids


class Rig:
    """A simulator, a bank on one bus object and a host on another, both on a fresh virtual channel."""

    def __init__(self, faults=None, seed=0, *, floating=True, echo=False):
        channel = f"vtest_{uuid.uuid4().hex[:12]}"
        self.sim = Simulator(SPEC)
        if floating:  # lifted and weightless: joints move only under motor torques
            self.sim.model.opt.gravity[:] = 0.0
            self.sim.data.qpos[2] = 2.0
            mujoco.mj_forward(self.sim.model, self.sim.data)
        self.motor_bus = can.Bus(interface="virtual", channel=channel, receive_own_messages=echo)
        self.host = can.Bus(interface="virtual", channel=channel, receive_own_messages=False)
        if isinstance(faults, str):
            faults = FaultConfig.parse(faults)
        self.bank = VirtualMotorBank(HW, self.sim, self.motor_bus, faults, seed)

    def send(self, frame):
        msg = can.Message(arbitration_id=frame.arbitration_id, data=frame.data, is_extended_id=frame.is_extended_id)
        self.host.send(msg)

    def mit(self, can_id, data):
        self.send(CanFrame(can_id, data))

    def mit_cmd(self, can_id, p, kp=60.0, kd=1.5, v=0.0, t=0.0, limits=AK10_9):
        self.mit(can_id, mit.encode_command(p, v, kp, kd, t, limits)[0])

    def rs_cmd(self, can_id, p, kp=60.0, kd=1.5, v=0.0, t=0.0, limits=RS03):
        self.send(robstride.encode_motion_control(can_id, p, v, kp, kd, t, limits)[0])

    def recv(self):
        out = []
        while (msg := self.host.recv(timeout=0)) is not None:
            out.append(msg)
        return out

    def exchange(self, now_s):
        self.bank.process_frames(now_s)
        return self.recv()

    def close(self):
        self.motor_bus.shutdown()
        self.host.shutdown()


@pytest.fixture
def make_rig():
    rigs = []

    def make(*args, **kwargs):
        rigs.append(Rig(*args, **kwargs))
        return rigs[-1]

    yield make
    for rig in rigs:
        rig.close()


def mit_replies(msgs, can_id, limits=AK10_9):
    return [
        mit.unpack_reply(m.data, limits)
        for m in msgs
        if not m.is_extended_id and m.arbitration_id == 0 and m.data[0] == can_id
    ]


def mit_raw(msgs, can_id):
    return [bytes(m.data) for m in msgs if not m.is_extended_id and m.arbitration_id == 0 and m.data[0] == can_id]


def rs_feedback(msgs, can_id, limits=RS03):
    out = []
    for m in msgs:
        if m.is_extended_id:
            comm_type, data2, _ = robstride.split_arbitration_id(m.arbitration_id)
            if comm_type == robstride.CommType.FEEDBACK and data2 & 0xFF == can_id:
                out.append(robstride.decode_feedback(m.arbitration_id, m.data, limits))
    return out


def joint(rig, name):
    return float(rig.sim.state().joint_pos[J[name]])


# ---------------------------------------------------------------------------------------------------------
# Protocol behaviour
# ---------------------------------------------------------------------------------------------------------


def test_real_bytes_move_the_joints_and_replies_agree_with_the_plant(make_rig):
    rig = make_rig()
    for can_id in (L_KNEE, L_HIP_PITCH):
        rig.mit(can_id, mit.ENTER_MOTOR_MODE)
    rig.send(robstride.encode_enable(R_KNEE, HOST))
    msgs = rig.exchange(0.0)
    assert len(mit_replies(msgs, L_KNEE)) == 1
    assert len(mit_replies(msgs, L_HIP_PITCH)) == 1
    assert rs_feedback(msgs, R_KNEE)[0].mode == robstride.MotorMode.RUN

    targets = {"left_knee": 1.2, "left_hip_pitch": -0.8, "right_knee": 1.2}
    for tick in range(40):  # 0.8 s at 50 Hz, 10 physics steps per tick
        rig.mit_cmd(L_KNEE, targets["left_knee"])  # direction +1, no offset: motor = joint
        rig.mit_cmd(L_HIP_PITCH, -targets["left_hip_pitch"])  # direction −1
        rig.rs_cmd(R_KNEE, targets["right_knee"] - 1.0)  # zero offset −1.0
        rig.exchange(tick * 0.02)
        rig.bank.step(10)
    cmd = rig.bank.joint_command()
    assert cmd.q[J["left_knee"]] == pytest.approx(1.2, abs=1e-3)
    assert cmd.q[J["left_hip_pitch"]] == pytest.approx(-0.8, abs=1e-3)
    assert cmd.q[J["right_knee"]] == pytest.approx(1.2, abs=1e-3)
    assert cmd.kp[J["left_ankle_pitch"]] == 0.0  # never enabled: no torque

    rig.mit_cmd(L_KNEE, 1.2)
    rig.mit_cmd(L_HIP_PITCH, 0.8)
    rig.rs_cmd(R_KNEE, 0.2)
    msgs = rig.exchange(0.8)
    state = rig.sim.state()
    for name, target in targets.items():
        assert state.joint_pos[J[name]] == pytest.approx(target, abs=0.05), name

    (knee,) = mit_replies(msgs, L_KNEE)
    assert knee.position == pytest.approx(state.joint_pos[J["left_knee"]], abs=1e-3)
    assert knee.velocity == pytest.approx(state.joint_vel[J["left_knee"]], abs=0.03)
    assert knee.torque == pytest.approx(state.joint_torque[J["left_knee"]], abs=0.04)
    assert (knee.temperature_c, knee.error) == (35.0, 0)
    (hip,) = mit_replies(msgs, L_HIP_PITCH)
    assert hip.position == pytest.approx(-state.joint_pos[J["left_hip_pitch"]], abs=1e-3)
    assert hip.torque == pytest.approx(-state.joint_torque[J["left_hip_pitch"]], abs=0.04)
    (right,) = rs_feedback(msgs, R_KNEE)
    assert (right.motor_id, right.host_id, right.mode, right.faults) == (R_KNEE, HOST, robstride.MotorMode.RUN, 0)
    assert right.position == pytest.approx(state.joint_pos[J["right_knee"]] - 1.0, abs=1e-3)
    assert right.torque == pytest.approx(state.joint_torque[J["right_knee"]], abs=0.01)
    assert right.temperature_c == pytest.approx(35.0)

    stats = rig.bank.stats
    assert stats["decode_errors"] == 0
    assert stats["commands_received"] == 41 * 3
    assert stats["commands_applied"] == 40
    assert stats["frames_sent"] == 3 + 41 * 3
    assert stats["last_command_s"]["right_knee"] == 0.8
    assert stats["last_command_s"]["left_ankle_pitch"] is None


def test_commanded_but_not_enabled_motors_apply_no_torque(make_rig):
    idle = make_rig(floating=False)  # standing, with gravity: nothing ever sent
    commanded = make_rig(floating=False)
    for tick in range(20):
        commanded.mit_cmd(L_KNEE, 1.8, kp=200.0)
        commanded.rs_cmd(R_KNEE, 0.8, kp=200.0)
        msgs = commanded.exchange(tick * 0.02)
        idle.exchange(tick * 0.02)
        assert len(mit_replies(msgs, L_KNEE)) == 1  # a disabled drive still answers
        assert rs_feedback(msgs, R_KNEE)[0].mode == robstride.MotorMode.RESET
        commanded.bank.step(10)
        idle.bank.step(10)
    # Both sag identically under gravity: the stored commands were never applied.
    np.testing.assert_array_equal(commanded.sim.state().joint_pos, idle.sim.state().joint_pos)
    states = commanded.bank.motor_states()
    assert states["left_knee"].command is not None
    assert not states["left_knee"].applying_torque
    assert not states["right_knee"].enabled


def test_exit_and_stop_remove_torque_and_enable_forgets_the_old_command(make_rig):
    rig = make_rig()
    rig.mit(L_KNEE, mit.ENTER_MOTOR_MODE)
    rig.send(robstride.encode_enable(R_KNEE, HOST))
    rig.mit_cmd(L_KNEE, 1.0)
    rig.rs_cmd(R_KNEE, 0.0)
    rig.exchange(0.0)
    assert rig.bank.joint_command().kp[[J["left_knee"], J["right_knee"]]] == pytest.approx([60.0, 60.0], abs=0.1)
    rig.mit(L_KNEE, mit.EXIT_MOTOR_MODE)
    rig.send(robstride.encode_stop(R_KNEE, HOST))
    msgs = rig.exchange(0.01)
    assert len(mit_replies(msgs, L_KNEE)) == 1
    assert rs_feedback(msgs, R_KNEE)[0].mode == robstride.MotorMode.RESET
    assert not rig.bank.joint_command().kp.any()
    rig.mit(L_KNEE, mit.ENTER_MOTOR_MODE)
    rig.send(robstride.encode_enable(R_KNEE, HOST))
    rig.exchange(0.02)
    states = rig.bank.motor_states()
    assert states["left_knee"].enabled and states["left_knee"].command is None
    assert not rig.bank.joint_command().kp.any()


def test_set_zero_makes_the_current_position_read_zero(make_rig):
    rig = make_rig()
    rig.mit(L_KNEE, mit.SET_ZERO)
    rig.send(robstride.encode_set_zero(R_KNEE, HOST))
    msgs = rig.exchange(0.0)
    assert mit_replies(msgs, L_KNEE)[0].position == pytest.approx(0.0, abs=1e-3)
    assert rs_feedback(msgs, R_KNEE)[0].position == pytest.approx(0.0, abs=1e-3)
    # Commands are now in the motor's new zero: +0.3 from here is joint 0.6 + 0.3.
    rig.mit(L_KNEE, mit.ENTER_MOTOR_MODE)
    rig.mit_cmd(L_KNEE, 0.3)
    rig.exchange(0.0)
    assert rig.bank.joint_command().q[J["left_knee"]] == pytest.approx(0.9, abs=1e-3)
    assert rig.bank.motor_states()["left_knee"].zero_shift_rad == pytest.approx(-0.6)


def test_robstride_parameters_read_and_write(make_rig):
    rig = make_rig()
    rig.send(robstride.encode_param_read(R_KNEE, robstride.RUN_MODE_INDEX, HOST))
    rig.send(robstride.encode_set_can_timeout(R_KNEE, 0.25, HOST))
    rig.send(robstride.encode_param_read(R_KNEE, robstride.CAN_TIMEOUT_INDEX, HOST))
    rig.send(robstride.encode_param_read(R_KNEE, 0x7019, HOST))  # mechPos
    rig.send(robstride.encode_param_read(R_KNEE, 0x7777, HOST))  # unknown: no answer
    msgs = rig.exchange(0.0)
    values = [
        robstride.decode_param_value(m.arbitration_id, m.data)
        for m in msgs
        if robstride.split_arbitration_id(m.arbitration_id)[0] == robstride.CommType.PARAM_READ
    ]
    assert [(v.motor_id, v.host_id, v.index) for v in values] == [
        (R_KNEE, HOST, robstride.RUN_MODE_INDEX),
        (R_KNEE, HOST, robstride.CAN_TIMEOUT_INDEX),
        (R_KNEE, HOST, 0x7019),
    ]
    assert values[0].value == robstride.RunMode.OPERATION
    assert values[1].value == 5000  # 0.25 s in 50 µs ticks
    assert values[2].value == pytest.approx(0.6 - 1.0, abs=1e-5)
    assert len(rs_feedback(msgs, R_KNEE)) == 1  # the write is acknowledged with feedback
    assert rig.bank.motor_states()["right_knee"].can_timeout_s == 0.25
    assert rig.bank.stats["unsupported"] == 1
    # A run mode other than operation: enabled, commanded, yet no type-1 torque.
    rig.send(robstride.encode_set_run_mode(R_KNEE, robstride.RunMode.SPEED, HOST))
    rig.send(robstride.encode_enable(R_KNEE, HOST))
    rig.rs_cmd(R_KNEE, 0.0)
    rig.exchange(0.01)
    assert not rig.bank.motor_states()["right_knee"].applying_torque


def test_corrupt_unknown_and_own_frames_are_counted_never_raised(make_rig):
    rig = make_rig(echo=True)  # the bank hears its own replies, as on udp_multicast
    rig.mit(L_KNEE, b"\x01\x02\x03\x04\x05")  # short MIT frame
    rig.send(CanFrame(robstride.make_arbitration_id(1, 0x8000, R_KNEE), b"\x00" * 4, is_extended_id=True))
    rig.send(CanFrame(robstride.make_arbitration_id(6, HOST, R_KNEE), b"\x00" * 8, is_extended_id=True))
    rig.send(CanFrame(robstride.make_arbitration_id(7, HOST, R_KNEE), b"\x00" * 8, is_extended_id=True))
    rig.mit(99, bytes(8))  # nobody's id
    rig.mit(L_KNEE, mit.ENTER_MOTOR_MODE)
    rig.mit_cmd(L_KNEE, 0.5)
    rig.send(robstride.encode_param_read(R_KNEE, robstride.RUN_MODE_INDEX, HOST))
    # 8 host frames; the 3 replies go out as one batch at the end of the drain and echo back for the next one.
    assert rig.bank.process_frames(0.0) == 8
    assert rig.bank.process_frames(0.0005) == 3
    stats = rig.bank.stats
    assert (stats["decode_errors"], stats["unsupported"]) == (3, 1)
    assert stats["frames_ignored"] == 1 + 3  # id 99, and its own replies
    assert (stats["frames_sent"], stats["commands_received"]) == (3, 1)  # ENTER, command, param read
    assert rig.bank.process_frames(0.001) == 0
    assert len(mit_replies(rig.recv(), L_KNEE)) == 2


def test_config_must_match_the_simulator(make_rig):
    rig = make_rig()
    with pytest.raises(ValueError, match="expected the simulator's joints"):
        VirtualMotorBank(HW, Simulator("testbed_arm"), rig.motor_bus)


# ---------------------------------------------------------------------------------------------------------
# Faults
# ---------------------------------------------------------------------------------------------------------


def enable_left_knee(rig, now_s=0.0):
    rig.mit(L_KNEE, mit.ENTER_MOTOR_MODE)
    return rig.exchange(now_s)


def test_drop_loses_about_that_share_of_frames_both_ways_from_start_s(make_rig):
    rig = make_rig("drop_pct=20,start_s=1.0", seed=3)
    assert len(mit_replies(enable_left_knee(rig), L_KNEE)) == 1  # before start_s: healthy
    n = 500
    replies = 0
    for k in range(n):
        rig.mit_cmd(L_KNEE, 0.6)
        replies += len(mit_replies(rig.exchange(1.0 + k * 0.002), L_KNEE))
    stats = rig.bank.stats
    assert 0.55 < replies / n < 0.73  # 0.8 (command arrives) × 0.8 (reply arrives) = 0.64
    assert replies == n - stats["rx_dropped"] - stats["tx_dropped"]
    assert stats["commands_received"] == n - stats["rx_dropped"]


def test_burst_loss_drops_runs_of_frames(make_rig):
    rig = make_rig("burst_loss=0.03,burst_length=10", seed=1)
    got = []
    for k in range(400):
        rig.mit_cmd(L_KNEE, 0.6)
        got.append(bool(mit_replies(rig.exchange(k * 0.002), L_KNEE)))
    runs, run = [], 0
    for ok in [*got, True]:
        if not ok:
            run += 1
        elif run:
            runs.append(run)
            run = 0
    assert len(runs) >= 3
    assert np.mean(runs) >= 4  # a 10-frame burst costs ~5 command/reply exchanges


def test_silent_motor_never_replies_but_still_executes(make_rig):
    rig = make_rig("silent_motor=left_knee")
    rig.mit(L_ANKLE, mit.ENTER_MOTOR_MODE)
    rig.mit(L_KNEE, mit.ENTER_MOTOR_MODE)
    msgs = rig.exchange(0.0)
    assert len(mit_replies(msgs, L_ANKLE, mit.limits_for("AK70-10"))) == 1
    assert mit_replies(msgs, L_KNEE) == []
    for k in range(10):
        rig.mit_cmd(L_KNEE, 1.0)
        msgs = rig.exchange(k * 0.02)
        assert mit_replies(msgs, L_KNEE) == []
        rig.bank.step(10)
    assert rig.bank.motor_states()["left_knee"].applying_torque
    assert rig.bank.stats["tx_suppressed"] == 11


def test_frozen_motor_repeats_the_same_bytes_while_the_joint_moves(make_rig):
    rig = make_rig("frozen_motor=left_knee,start_s=0.1")
    enable_left_knee(rig)
    before, after = [], []
    for k in range(30):
        rig.mit_cmd(L_KNEE, 1.4)
        now = k * 0.02
        (before if now < 0.1 else after).extend(mit_raw(rig.exchange(now), L_KNEE))
        rig.bank.step(10)
    assert len(set(before)) > 1
    assert len(after) == 25 and len(set(after)) == 1
    assert after[0] == before[-1]  # frozen at the last reply before start_s
    assert joint(rig, "left_knee") > 1.2  # it moved from 0.6 meanwhile


@pytest.mark.parametrize("name", ["left_knee", "right_knee"])
def test_over_temperature_motor_reports_heat(make_rig, name):
    rig = make_rig(f"over_temperature_motor={name}")
    rig.mit(L_KNEE, mit.ENTER_MOTOR_MODE)
    rig.send(robstride.encode_enable(R_KNEE, HOST))
    msgs = rig.exchange(0.0)
    temps = {
        "left_knee": mit_replies(msgs, L_KNEE)[0].temperature_c,
        "right_knee": rs_feedback(msgs, R_KNEE)[0].temperature_c,
    }
    assert temps.pop(name) >= 90.0
    assert next(iter(temps.values())) == pytest.approx(35.0)


@pytest.mark.parametrize(("name", "code"), [("left_knee", 2), ("right_knee", int(robstride.Fault.OVER_CURRENT))])
def test_error_code_motor_reports_it(make_rig, name, code):
    rig = make_rig(f"error_code_motor={name},error_code={code}")
    rig.mit(L_KNEE, mit.ENTER_MOTOR_MODE)
    rig.send(robstride.encode_enable(R_KNEE, HOST))
    msgs = rig.exchange(0.0)
    errors = {"left_knee": mit_replies(msgs, L_KNEE)[0].error, "right_knee": int(rs_feedback(msgs, R_KNEE)[0].faults)}
    assert errors.pop(name) == code
    assert next(iter(errors.values())) == 0


def test_delayed_replies_arrive_late_with_the_state_of_when_they_were_made(make_rig):
    rig = make_rig("delay_s=0.01")
    enable_left_knee(rig)  # that reply is queued too
    rig.mit_cmd(L_KNEE, 1.5)
    assert rig.exchange(0.001) == []
    truth = joint(rig, "left_knee")
    rig.bank.step(10)
    assert rig.exchange(0.009) == []
    assert len(mit_replies(rig.exchange(0.0105), L_KNEE)) == 1  # the ENTER reply (made at 0.0)
    (reply,) = mit_replies(rig.exchange(0.0115), L_KNEE)  # the command reply (made at 0.001)
    assert reply.position == pytest.approx(truth, abs=1e-3)
    assert joint(rig, "left_knee") - truth > 0.01  # the plant has moved on since
    assert rig.bank.stats["tx_delayed"] == 2


def test_duplicate_sends_each_reply_twice(make_rig):
    rig = make_rig("duplicate_pct=100")
    rig.mit_cmd(L_KNEE, 0.6)
    raw = mit_raw(rig.exchange(0.0), L_KNEE)
    assert len(raw) == 2 and raw[0] == raw[1]


def test_reorder_swaps_replies_with_the_next_one(make_rig):
    rig = make_rig("reorder_pct=100")
    for can_id in (1, 2, 4, 5):
        rig.mit(can_id, mit.ENTER_MOTOR_MODE)
    order = [m.data[0] for m in rig.exchange(0.0)]
    assert order == [2, 1, 5, 4]


def test_corrupt_replies_differ_from_the_truth(make_rig):
    rig = make_rig("corrupt_pct=40", seed=7)
    healthy = make_rig()
    healthy.mit_cmd(L_KNEE, 0.6)
    (truth,) = mit_raw(healthy.exchange(0.0), L_KNEE)
    raws = []
    for k in range(100):  # no step: the state, hence the true reply, stays the same
        rig.mit(L_KNEE, mit.EXIT_MOTOR_MODE)
        raws += [bytes(m.data) for m in rig.exchange(k * 0.001)]
    wrong = sum(r != truth for r in raws)
    assert len(raws) == 100 and all(len(r) == 8 for r in raws)
    assert 25 <= wrong <= 55
    assert wrong == rig.bank.stats["tx_corrupted"]


def test_bus_off_silences_both_directions(make_rig):
    rig = make_rig("bus_off_at_s=0.1")
    enable_left_knee(rig)
    for k in range(10):
        now = k * 0.02
        rig.mit_cmd(L_KNEE, 1.2 if now < 0.1 else 0.0)
        msgs = rig.exchange(now)
        assert len(mit_replies(msgs, L_KNEE)) == (1 if now < 0.1 else 0)
        rig.bank.step(10)
    # The motor keeps executing the last command it heard (1.2); the 0.0 target never arrived.
    assert rig.bank.joint_command().q[J["left_knee"]] == pytest.approx(1.2, abs=1e-3)
    assert rig.bank.stats["bus_off_dropped"] == 5


def test_rebooted_motor_drops_torque_and_answers_only_after_enable(make_rig):
    rig = make_rig("reboot_motor=left_knee,reboot_at_s=0.1,reboot_zero_shift_rad=0.5")
    enable_left_knee(rig)
    for k in range(10):
        now = k * 0.02
        rig.mit_cmd(L_KNEE, 1.0)
        msgs = rig.exchange(now)
        assert len(mit_replies(msgs, L_KNEE)) == (1 if now < 0.1 else 0)
        assert rig.bank.motor_states()["left_knee"].applying_torque == (now < 0.1)
        rig.bank.step(10)
    assert rig.bank.joint_command().kp[J["left_knee"]] == 0.0
    rig.mit(L_KNEE, mit.ENTER_MOTOR_MODE)
    (reply,) = mit_replies(rig.exchange(0.2), L_KNEE)
    assert reply.position == pytest.approx(joint(rig, "left_knee") + 0.5, abs=1e-3)  # its zero moved
    rig.mit_cmd(L_KNEE, 1.5)
    assert len(mit_replies(rig.exchange(0.22), L_KNEE)) == 1
    assert rig.bank.joint_command().q[J["left_knee"]] == pytest.approx(1.0, abs=1e-3)
    assert rig.bank.stats["reboots"] == 1


def test_robstride_can_timeout_watchdog_stops_torque(make_rig):
    rig = make_rig()
    rig.send(robstride.encode_set_can_timeout(R_KNEE, 0.05, HOST))
    rig.send(robstride.encode_enable(R_KNEE, HOST))
    for k in range(5):
        rig.rs_cmd(R_KNEE, 0.0)
        rig.exchange(k * 0.02)
    assert rig.bank.motor_states()["right_knee"].applying_torque
    rig.exchange(0.12)  # 40 ms since the last frame: still running
    assert rig.bank.motor_states()["right_knee"].applying_torque
    rig.exchange(0.14)  # 60 ms: tripped
    state = rig.bank.motor_states()["right_knee"]
    assert state.watchdog_tripped and not state.applying_torque
    assert rig.bank.joint_command().kp[J["right_knee"]] == 0.0
    rig.rs_cmd(R_KNEE, 0.0)
    assert rs_feedback(rig.exchange(0.15), R_KNEE)[0].mode == robstride.MotorMode.RESET
    assert not rig.bank.motor_states()["right_knee"].applying_torque  # a command alone does not restart it
    rig.send(robstride.encode_enable(R_KNEE, HOST))
    rig.rs_cmd(R_KNEE, 0.0)
    assert rs_feedback(rig.exchange(0.16), R_KNEE)[-1].mode == robstride.MotorMode.RUN
    assert rig.bank.motor_states()["right_knee"].applying_torque
    assert rig.bank.stats["watchdog_trips"] == 1


def test_fault_injection_is_deterministic_per_seed(make_rig):
    def run(seed):
        rig = make_rig("drop_pct=30,corrupt_pct=30,duplicate_pct=10", seed=seed)
        out = []
        for k in range(60):
            rig.mit_cmd(L_KNEE, 0.6)
            out += [bytes(m.data) for m in rig.exchange(k * 0.001)]
        return out

    assert run(5) == run(5)
    assert run(5) != run(6)


# ---------------------------------------------------------------------------------------------------------
# FaultConfig
# ---------------------------------------------------------------------------------------------------------


def test_fault_config_parses_the_compact_form_and_round_trips():
    faults = FaultConfig.parse(" drop_pct=5, silent_motor=left_knee ,bus_off_at_s=2.5,burst_length=3")
    assert (faults.drop_pct, faults.silent_motor, faults.bus_off_at_s, faults.burst_length) == (
        5.0,
        "left_knee",
        2.5,
        3,
    )
    assert FaultConfig.parse(faults.to_string()) == faults
    assert FaultConfig.parse("") == FaultConfig() == FaultConfig.from_dict(None)
    assert not FaultConfig().injects and faults.injects
    assert FaultConfig.from_dict({"delay_s": 0.002, "frozen_motor": None, "end_s": "none"}).delay_s == 0.002


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("droppct=5", r"fault 'droppct' is '5'; expected a known fault key \(drop_pct, burst_loss"),
        ("drop_pct=abc", r"fault 'drop_pct' is 'abc'; expected a number"),
        ("drop_pct=150", r"fault 'drop_pct' is 150.0; expected a number in \[0, 100\]"),
        ("burst_length=2.5", r"fault 'burst_length' is '2.5'; expected an integer"),
        ("burst_loss=2", r"'burst_loss' is 2.0; expected a probability in \[0, 1\]"),
        ("delay_s=-1", r"'delay_s' is -1.0; expected a finite number ≥ 0 \(s\)"),
        ("silent_motor", r"fault 'silent_motor' is None; expected 'key=value'"),
        ("drop_pct=1,drop_pct=2", r"expected each key at most once"),
        ("start_s=2,end_s=1", r"'end_s' is 1.0; expected a time after start_s"),
    ],
)
def test_fault_config_errors_name_the_key_and_value(text, match):
    with pytest.raises(FaultConfigError, match=match):
        FaultConfig.parse(text)


def test_bank_rejects_faults_for_unknown_joints(make_rig):
    rig = make_rig()
    with pytest.raises(FaultConfigError, match=r"'silent_motor' is 'left_elbow'; expected a joint of the hardware"):
        VirtualMotorBank(HW, rig.sim, rig.motor_bus, FaultConfig(silent_motor="left_elbow"))
    with pytest.raises(FaultConfigError, match=r"'error_code' is 64; expected Robstride fault bits"):
        VirtualMotorBank(HW, rig.sim, rig.motor_bus, FaultConfig(error_code_motor="right_knee", error_code=64))


def test_compiled_command_path_answers_like_the_frame_by_frame_path(make_rig, monkeypatch):
    """Steady state (commands only, no faults): the one-call path stores and answers exactly what the per-frame
    path does — same commands, same reply bytes in the same order — and is the path taken."""
    outcomes = []
    for compiled in (True, False):
        rig = make_rig()
        taken = []

        def spy(batch, now, real=rig.bank._answer_commands, compiled=compiled, taken=taken):
            taken.append(compiled and real(batch, now))
            return taken[-1]

        monkeypatch.setattr(rig.bank, "_answer_commands", spy)
        for can_id in range(1, 7):
            rig.mit(can_id, mit.ENTER_MOTOR_MODE)
        for can_id in range(11, 17):
            rig.send(robstride.encode_enable(can_id, HOST))
        rig.exchange(0.0)
        rng = np.random.default_rng(3)
        replies = []
        for k in range(20):
            for motor in HW.motors:
                p, v, kp, kd, t = rng.normal(0, (0.5, 2.0, 40.0, 1.0, 5.0)) * (1 if k % 5 else 40)  # some clamp
                encode = mit.encode_command if motor.protocol == "mit" else None
                if encode:
                    rig.mit(motor.can_id, encode(p, v, abs(kp), abs(kd), t, motor.limits)[0])
                else:
                    rig.send(robstride.encode_motion_control(motor.can_id, p, v, abs(kp), abs(kd), t, motor.limits)[0])
            replies += [(m.arbitration_id, m.is_extended_id, bytes(m.data)) for m in rig.exchange(0.002 * (k + 1))]
            rig.bank.step(1)
        commands = {j: s.command for j, s in rig.bank.motor_states().items()}
        outcomes.append((replies, commands, rig.bank.stats["commands_received"], rig.bank.joint_command()))
        assert taken[-20:] == [compiled] * 20  # every command batch took the path under test
    fast, slow = outcomes
    assert len(fast[0]) == 20 * 12 and fast[0] == slow[0]
    assert fast[1] == slow[1] and fast[2] == slow[2] == 20 * 12
    for field in ("q", "dq", "kp", "kd", "tau_ff"):
        assert np.array_equal(getattr(fast[3], field), getattr(slow[3], field))


def test_a_motor_is_stale_when_it_leaves_commands_unanswered_not_when_the_host_stalls(make_rig):
    """CanActuatorBus against the bank, real bytes: a host pause between ticks ages nobody; a silent motor ages
    from the first command it did not answer and is stale once that is older than the stale timeout."""
    from physai.drivers.can_bus import CanActuatorBus
    from physai.robot.command import JointCommand

    rig = make_rig("silent_motor=left_knee,start_s=1.0")
    host = CanActuatorBus(HW, rig.host)
    host.enable()
    rig.exchange(0.0)
    hold = JointCommand.hold(SPEC)
    knee = J["left_knee"]

    def tick(now_s):
        fb = host.read_state(now_s)
        host.write_command(hold, now_s)
        rig.bank.process_frames(now_s)
        return fb

    for k in range(5):
        fb = tick(0.01 * k)
    assert np.isfinite(fb.age_s).all() and not fb.stale.any()
    fb = tick(0.5)  # the host paused 460 ms; every command it had sent was answered
    assert not fb.stale.any() and (fb.age_s == 0.0).all()
    times = [1.0 + 0.01 * k for k in range(8)]  # the knee is silent from 1.0 s
    ages = [tick(t).age_s[knee] for t in times]
    timeout = HW.stale_timeout_s
    assert ages[1] == pytest.approx(times[1] - times[0])  # its first unanswered command was sent at 1.0 s
    fb = tick(1.0 + timeout + 0.02)
    assert fb.stale[knee] and fb.stale.sum() == 1 and fb.age_s[knee] > timeout


def test_compiled_path_runs_until_the_fault_window_opens_then_the_faults_act(make_rig, monkeypatch):
    """A fault configured from start_s: the one-call path answers before start_s, the per-frame path (and the
    fault) from then on."""
    rig = make_rig("silent_motor=left_knee,start_s=0.05")
    taken = []

    def spy(batch, now, real=rig.bank._answer_commands):
        taken.append(real(batch, now))
        return taken[-1]

    monkeypatch.setattr(rig.bank, "_answer_commands", spy)
    enable_left_knee(rig)
    knee_replies = []
    for k in range(10):
        rig.mit_cmd(L_KNEE, 0.2)
        knee_replies.append(len(mit_replies(rig.exchange(0.01 * (k + 1)), L_KNEE)))
        rig.bank.step(5)
    assert taken[-10:] == [True] * 4 + [False] * 6  # times 0.01–0.04 compiled; 0.05 on, the silent motor
    assert knee_replies == [1] * 4 + [0] * 6


def test_a_stall_of_the_whole_host_plant_included_makes_no_motor_stale_a_silent_one_still_is(make_rig):
    """The host (driver and plant alike) stops for 218 ms right after a command went out, as a VM's vCPUs taken
    by the hypervisor do: on the driver's StallClock nobody has aged when it runs again, before the plant has
    answered; every motor answers the next tick. A motor silent from then on is stale once the stale timeout of
    time the host ran has passed."""
    from physai.control import StallClock
    from physai.drivers.can_bus import CanActuatorBus
    from physai.robot.command import JointCommand

    rig = make_rig("silent_motor=left_knee,start_s=0.5")
    host = CanActuatorBus(HW, rig.host)
    host.enable()
    rig.exchange(0.0)
    hold = JointCommand.hold(SPEC)
    period = 0.002
    clock = StallClock(period)

    def tick(wall_s, plant_answers=True):
        now = clock.tick(wall_s)
        fb = host.read_state(now)
        host.write_command(hold, now)
        if plant_answers:
            rig.bank.process_frames(wall_s)
        return fb

    for k in range(5):
        tick(period * k, plant_answers=k < 4)  # the last command is sent, then the whole host stalls
    stalled = period * 4 + 0.218
    fb = tick(stalled)  # before the plant (stalled too) has answered
    assert clock.stalls == 1 and clock.longest_s == pytest.approx(0.218)
    assert not fb.stale.any() and fb.age_s.max() < HW.stale_timeout_s
    fb = tick(stalled + period)
    assert (fb.age_s == 0.0).all()  # every motor answered
    knee, t = J["left_knee"], stalled + 2 * period
    while t < 0.5 + HW.stale_timeout_s + 0.01:  # the knee is silent from 0.5 s: ticks on time from here
        fb = tick(t)
        t += period
    assert clock.stalls == 1
    assert fb.stale[knee] and fb.stale.sum() == 1  # the silent knee, on time the host ran
