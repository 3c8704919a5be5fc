"""SafetyGuard: validation, clamping, latched timeout damping, e-stop latch and re-arm, soft start."""

import numpy as np
import pytest

from physai.control import Event, GuardConfig, GuardMode, SafetyGuard
from physai.robot import RobotSpec


@pytest.fixture(scope="module")
def spec() -> RobotSpec:
    return RobotSpec.load("testbed_biped")


@pytest.fixture
def guard(spec) -> SafetyGuard:
    return SafetyGuard(spec, GuardConfig(timeout_s=0.05, soft_start_s=0.0))


def is_damping(cmd, spec) -> bool:
    return bool(
        np.all(cmd.kp == 0) and np.all(cmd.tau_ff == 0) and np.all(cmd.dq == 0) and np.allclose(cmd.kd, spec.kd)
    )


def submit_default(guard, spec, now, **overrides):
    fields = {"names": spec.joint_names, "position": spec.default_pose, **overrides}
    return guard.submit(now_s=now, **fields)


def test_damping_until_first_command_then_passes_it_through(guard, spec):
    assert is_damping(guard.output(0.0, spec.default_pose), spec)
    assert guard.mode is GuardMode.WAITING
    assert submit_default(guard, spec, 0.0) is None
    cmd = guard.output(0.01, spec.default_pose)
    assert guard.mode is GuardMode.ACTIVE
    np.testing.assert_array_equal(cmd.q, spec.default_pose)
    np.testing.assert_array_equal(cmd.kp, spec.kp)


@pytest.mark.parametrize(
    ("overrides", "event"),
    [
        ({"position": np.full(12, np.nan)}, Event.REJECTED_NAN),
        ({"effort": np.full(12, np.inf)}, Event.REJECTED_NAN),
        ({"names": ("left_hip_yaw", "left_toe"), "position": [0.0, 0.0]}, Event.REJECTED_UNKNOWN_JOINT),
        ({"names": ("left_knee", "left_knee"), "position": [0.5, 0.5]}, Event.REJECTED_DUPLICATE_JOINT),
        ({"position": np.zeros(5)}, Event.REJECTED_LENGTH),
        ({"velocity": np.zeros(3)}, Event.REJECTED_LENGTH),
    ],
)
def test_bad_commands_are_rejected_whole_and_counted(guard, spec, overrides, event):
    submit_default(guard, spec, 0.0, position=spec.default_pose + 0.05)
    before = guard.output(0.01, spec.default_pose)
    rejection = submit_default(guard, spec, 0.02, **overrides)
    assert rejection is not None and rejection.event is event
    assert guard.events[event] == 1
    after = guard.output(0.03, spec.default_pose)
    np.testing.assert_array_equal(after.q, before.q)  # nothing from the bad message got through
    assert np.all(np.isfinite(after.q)) and np.all(np.isfinite(after.tau_ff))


def test_out_of_range_targets_are_clamped_and_counted(guard, spec):
    n = spec.n_joints
    submit_default(guard, spec, 0.0, position=spec.upper + 20.0, velocity=np.full(n, 1e3), effort=np.full(n, -1e4))
    cmd = guard.output(0.01, spec.default_pose)
    np.testing.assert_array_equal(cmd.q, spec.upper)
    np.testing.assert_array_equal(cmd.dq, spec.velocity_limit)
    np.testing.assert_array_equal(cmd.tau_ff, -spec.effort_limit)
    for event in (Event.CLAMPED_POSITION, Event.CLAMPED_VELOCITY, Event.CLAMPED_TORQUE):
        assert guard.events[event] == 1


def test_gains_are_capped(guard, spec):
    submit_default(guard, spec, 0.0, kp=spec.kp * 100, kd=-np.ones(12))
    cmd = guard.output(0.01, spec.default_pose)
    np.testing.assert_allclose(cmd.kp, spec.kp * guard.config.max_gain_scale)
    np.testing.assert_array_equal(cmd.kd, 0.0)
    assert guard.events[Event.CLAMPED_GAIN] == 2


def test_partial_command_updates_only_named_joints(guard, spec):
    submit_default(guard, spec, 0.0)
    guard.submit(("left_knee",), [1.0], now_s=0.01)
    cmd = guard.output(0.02, spec.default_pose)
    knee = spec.joint_names.index("left_knee")
    assert cmd.q[knee] == 1.0
    others = np.arange(12) != knee
    np.testing.assert_array_equal(cmd.q[others], spec.default_pose[others])


def test_a_timeout_during_soft_start_delays_arming_without_latching(spec):
    guard = SafetyGuard(spec, GuardConfig(timeout_s=0.05, soft_start_s=0.5))
    measured = spec.default_pose + 0.2
    submit_default(guard, spec, 0.0)
    guard.output(0.0, measured)
    assert guard.mode is GuardMode.SOFT_START
    assert is_damping(guard.output(0.08, measured), spec) and guard.mode is GuardMode.TIMEOUT  # a slow start
    submit_default(guard, spec, 0.1)
    again = guard.output(0.1, measured)  # not latched: soft-starts again from where the joints are
    assert guard.mode is GuardMode.SOFT_START
    np.testing.assert_allclose(again.q, np.clip(measured, spec.lower, spec.upper))


def test_timeout_latches_damping_until_rearm_then_soft_starts(spec):
    guard = SafetyGuard(spec, GuardConfig(timeout_s=0.05, soft_start_s=0.5))
    measured = spec.default_pose + 0.2
    for k in range(14):  # commands every 40 ms until the 0.5 s soft start is over
        submit_default(guard, spec, 0.04 * k)
        guard.output(0.04 * k, measured)
    assert guard.mode is GuardMode.ACTIVE
    assert not is_damping(guard.output(0.52 + 0.049, measured), spec)
    assert is_damping(guard.output(0.52 + 0.051, measured), spec)
    assert guard.mode is GuardMode.TIMEOUT and guard.events[Event.TIMEOUT] == 1
    guard.output(0.6, measured)
    assert guard.events[Event.TIMEOUT] == 1  # counted once per timeout, not per tick
    for t in (1.0, 1.01, 1.02):  # a respawned commander: its commands do not take the robot back
        submit_default(guard, spec, t)
        assert is_damping(guard.output(t, measured), spec)
        assert guard.mode is GuardMode.TIMEOUT
    assert guard.rearm() is True and guard.counts()["rearm"] == 1
    assert is_damping(guard.output(1.1, measured), spec), "commands from before the re-arm do not count"
    assert guard.mode is GuardMode.WAITING
    submit_default(guard, spec, 2.0)
    start = guard.output(2.0, measured)
    np.testing.assert_allclose(start.q, np.clip(measured, spec.lower, spec.upper))  # ramps from where it is
    submit_default(guard, spec, 2.25)
    mid = guard.output(2.25, measured)
    np.testing.assert_allclose(mid.q, 0.5 * (np.clip(measured, spec.lower, spec.upper) + spec.default_pose))
    assert guard.mode is GuardMode.SOFT_START
    submit_default(guard, spec, 2.5)
    np.testing.assert_allclose(guard.output(2.5, measured).q, spec.default_pose)
    assert guard.mode is GuardMode.ACTIVE


def test_nothing_latches_before_the_first_command(guard, spec):
    for t in (0.0, 0.1, 1.0):  # waiting for a commander that is still starting: no timeout, no latch
        assert is_damping(guard.output(t, spec.default_pose), spec)
        assert guard.mode is GuardMode.WAITING
    submit_default(guard, spec, 1.0)
    assert not is_damping(guard.output(1.01, spec.default_pose), spec)
    assert guard.events[Event.TIMEOUT] == 0


def test_estop_during_a_latched_timeout_needs_release_and_rearm(guard, spec):
    submit_default(guard, spec, 0.0)
    guard.output(0.01, spec.default_pose)
    guard.output(0.1, spec.default_pose)
    assert guard.mode is GuardMode.TIMEOUT
    guard.estop(True)
    guard.output(0.11, spec.default_pose)
    assert guard.mode is GuardMode.ESTOP and guard.rearm() is False
    guard.estop(False)
    assert guard.rearm() is True  # one re-arm clears both
    submit_default(guard, spec, 0.2)
    assert not is_damping(guard.output(0.21, spec.default_pose), spec)


def test_estop_latches_until_released_and_rearmed(guard, spec):
    submit_default(guard, spec, 0.0)
    guard.estop(True)
    assert is_damping(guard.output(0.001, spec.default_pose), spec)  # effective at the very next tick
    assert guard.rearm() is False  # still engaged
    guard.estop(False)
    submit_default(guard, spec, 0.01)
    assert is_damping(guard.output(0.011, spec.default_pose), spec), "release alone must not re-enable"
    assert guard.mode is GuardMode.ESTOP
    assert guard.rearm() is True
    assert is_damping(guard.output(0.012, spec.default_pose), spec), "pre-e-stop commands do not count after re-arm"
    submit_default(guard, spec, 0.02)
    assert not is_damping(guard.output(0.021, spec.default_pose), spec)
    assert guard.counts()["estop"] == 1 and guard.counts()["rearm"] == 1


def test_a_hold_estop_freezes_the_measured_pose_at_the_default_gains(spec):
    guard = SafetyGuard(spec, GuardConfig(estop_stop="hold"))
    submit_default(guard, spec, 0.0)
    guard.output(0.001, spec.default_pose)
    where = spec.default_pose + 0.05
    guard.estop(True)
    held = guard.output(0.002, where)
    assert guard.mode is GuardMode.ESTOP
    np.testing.assert_allclose(held.q, np.clip(where, spec.lower, spec.upper))
    np.testing.assert_allclose(held.kp, spec.kp)
    np.testing.assert_allclose(held.kd, spec.kd)
    np.testing.assert_allclose(guard.output(0.5, where + 0.2).q, held.q)  # frozen: not following the joints
    guard.trip("over temperature")
    assert is_damping(guard.output(0.6, where), spec)  # a fault always damps
    guard.estop(False)
    assert guard.rearm() is True
    submit_default(guard, spec, 0.7)
    assert not is_damping(guard.output(0.71, spec.default_pose), spec)
    with pytest.raises(ValueError, match="field 'estop_stop' is 'freeze'; expected damping or hold"):
        GuardConfig(estop_stop="freeze")


def test_output_never_exceeds_limits_under_random_input(spec):
    rng = np.random.default_rng(0)
    guard = SafetyGuard(spec, GuardConfig(soft_start_s=0.1))
    for k in range(500):
        now = k * 0.002
        guard.submit(
            spec.joint_names,
            rng.normal(0, 10, 12),
            rng.normal(0, 100, 12),
            rng.normal(0, 1000, 12),
            now_s=now,
            kp=rng.normal(0, 1000, 12),
        )
        cmd = guard.output(now, rng.normal(0, 5, 12))
        assert np.all((cmd.q >= spec.lower) & (cmd.q <= spec.upper))
        assert np.all(np.abs(cmd.dq) <= spec.velocity_limit)
        assert np.all(np.abs(cmd.tau_ff) <= spec.effort_limit)
        assert np.all(cmd.kp >= 0) and np.all(cmd.kp <= spec.kp * 3)


def test_config_is_validated():
    with pytest.raises(ValueError, match="timeout_s"):
        GuardConfig(timeout_s=0)


def test_fault_trip_latches_damping_until_rearm(guard, spec):
    submit_default(guard, spec, 0.0)
    assert not is_damping(guard.output(0.001, spec.default_pose), spec)
    guard.trip("left_knee stale for 25 ms")
    guard.trip("left_knee stale for 27 ms")  # still the same trip
    assert is_damping(guard.output(0.002, spec.default_pose), spec)
    assert guard.mode is GuardMode.FAULT and guard.counts()["fault"] == 1
    submit_default(guard, spec, 0.003)
    assert is_damping(guard.output(0.004, spec.default_pose), spec)  # commands alone do not clear it
    assert guard.rearm() and guard.fault_reason == ""
    submit_default(guard, spec, 0.005)
    assert not is_damping(guard.output(0.006, spec.default_pose), spec)
