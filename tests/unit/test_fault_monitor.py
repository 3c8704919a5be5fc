"""FaultMonitor: each feedback fault from plain arrays (no ROS, no root), and what must not trip it."""

import numpy as np
import pytest

from physai.drivers.bus import MotorFeedback
from physai.drivers.monitor import FaultMonitor, MonitorConfig
from physai.robot.command import JointCommand

JOINTS = ("hip", "knee", "ankle")
N = len(JOINTS)


def feedback(q=0.0, dq=0.0, tau=0.0, *, temperature=35.0, error=0, age=0.001, stale=False, fresh=True):
    full = lambda v, dtype=float: np.full(N, v, dtype)  # noqa: E731
    return MotorFeedback(
        full(q),
        full(dq),
        full(tau),
        full(temperature),
        full(error, np.int64),
        full(age),
        full(stale, bool),
        full(fresh, bool),
    )


def command(q=0.0, kp=50.0):
    z = np.zeros(N)
    return JointCommand(np.full(N, q), z, np.full(N, kp), np.full(N, 1.0), z)


@pytest.fixture
def monitor():
    return FaultMonitor(MonitorConfig(max_temperature_c=80.0, max_jump_rad=0.3, frozen_window_s=0.2), JOINTS)


def test_healthy_feedback_has_no_fault(monitor):
    for k in range(100):
        assert monitor.check(feedback(q=0.001 * k), command(0.001 * k), k * 0.002) == {}


def test_stale_feedback_is_named_with_its_age(monitor):
    fb = feedback(age=0.052, stale=True)
    assert monitor.check(fb, None, 0.0) == dict.fromkeys(JOINTS, "stale feedback (52 ms old)")


def test_drive_error_and_over_temperature(monitor):
    fb = feedback(error=4)
    assert monitor.check(fb, None, 0.0)["knee"] == "drive error code 4"
    hot = feedback(temperature=95.0)
    assert monitor.check(hot, None, 0.002)["ankle"] == "over-temperature 95 °C"
    unknown = feedback(temperature=np.nan)  # a protocol without temperature is not hot
    assert monitor.check(unknown, None, 0.004) == {}


def test_implausible_jump_between_two_checks(monitor):
    assert monitor.check(feedback(q=0.1), None, 0.0) == {}
    assert monitor.check(feedback(q=0.5), None, 0.002)["hip"] == "implausible jump +0.40 rad in one tick"
    assert monitor.check(feedback(q=0.55), None, 0.004) == {}


def test_frozen_motor_identical_replies_while_the_command_moves(monitor):
    faults, moved_at = {}, None
    for k in range(300):  # replies never change while the commanded position sweeps 0 → 0.3 rad (kp 50)
        t = k * 0.002
        faults = monitor.check(feedback(q=0.0), command(0.001 * k), t)
        if moved_at is None and 50.0 * 0.001 * k > 1.0:  # the commanded torque has moved past the 1 N·m spread
            moved_at = t
        if faults:
            break
    assert set(faults) == set(JOINTS) and faults["hip"].startswith("frozen feedback")
    assert moved_at + 0.2 <= t <= moved_at + 0.2 + 0.006  # the 0.2 s window runs from the move, not before


def test_a_command_step_on_a_still_joint_is_judged_only_once_a_reply_could_show_it(monitor):
    # a joint at rest gives bit-identical replies; then the command steps (soft start → active, active →
    # damping): the reply right after is from before the step acted, so it is not a frozen motor ...
    for k in range(150):
        assert monitor.check(feedback(q=0.0), command(0.0), k * 0.002) == {}
    assert monitor.check(feedback(q=0.0), command(0.1), 0.300) == {}  # the step's command, not yet answered
    assert monitor.check(feedback(q=0.001), command(0.1), 0.302) == {}  # a live motor's reply then differs
    # ... while a motor whose replies still do not change for the window after the step is frozen
    frozen = FaultMonitor(monitor.config, JOINTS)
    for k in range(150):
        frozen.check(feedback(q=0.0), command(0.0), k * 0.002)
    verdicts = [frozen.check(feedback(q=0.0), command(0.1), 0.300 + k * 0.002) for k in range(103)]
    assert verdicts[:101] == [{}] * 101  # until 0.2 s after the reply that first could show the step
    assert verdicts[102]["hip"].startswith("frozen feedback")


def test_a_command_step_during_a_plant_stall_is_judged_on_the_window_after_it(monitor):
    # the plant stalls 30 ms as the command steps (the policy died: active → damping); its queued commands are
    # then all answered from the state before it steps, and on a loaded bus those identical replies come in
    # over the next 100 ms: a burst, not a frozen motor ...
    def stall_then(replies: list[float]) -> list[dict]:
        m = FaultMonitor(monitor.config, JOINTS)
        for k in range(150):
            assert m.check(feedback(q=0.0), command(0.0), k * 0.002) == {}
        for k in range(15):  # no reply while the stepped command goes out
            assert m.check(feedback(q=0.0, fresh=False), command(0.1), 0.300 + k * 0.002) == {}
        return [m.check(feedback(q=q), command(0.1), 0.330 + k * 0.002) for k, q in enumerate(replies)]

    burst = [0.0] * 50  # 100 ms of replies from the one state before the step
    assert stall_then([*burst, 0.001, 0.002]) == [{}] * 52  # ... the plant's next step moves it
    frozen = stall_then([0.0] * 110)  # while a motor that still does not move after the window is frozen
    assert frozen[:100] == [{}] * 100 and frozen[-1]["hip"].startswith("frozen feedback")


def test_still_joint_with_a_still_command_is_not_frozen(monitor):
    for k in range(300):
        assert monitor.check(feedback(q=0.0), command(0.0), k * 0.002) == {}


def test_lost_replies_neither_freeze_nor_reset_a_live_motor(monitor):
    # packet loss: most ticks carry no new reply (fresh False) and repeat the last values; the replies that
    # do arrive differ, so however long the gaps, the motor is not frozen
    rng = np.random.default_rng(0)
    q = 0.0
    for k in range(1000):
        got = rng.random() < 0.2
        q += 0.002 if got else 0.0
        assert monitor.check(feedback(q=q, fresh=got), command(q + 0.01 * np.sin(k / 20)), k * 0.002) == {}
