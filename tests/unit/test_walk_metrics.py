"""Walking metrics on hand-built logs: stride averages, the settling window, drift, slip and step frequency."""

import numpy as np
import pytest

from physai.record.walk_metrics import SETTLE_S, WalkLog, settled, smoothed, walk_metrics

DT = 0.02


def log_of(command, measured, contact=None, slip=None) -> WalkLog:
    k = len(command)
    contact = np.zeros((k, 2), bool) if contact is None else contact
    slip = np.zeros(k) if slip is None else slip
    return WalkLog(DT, list(np.asarray(command, float)), list(np.asarray(measured, float)), list(contact), list(slip))


def test_smoothed_is_a_trailing_mean():
    x = np.array([[0.0], [2.0], [4.0], [6.0]])
    np.testing.assert_allclose(smoothed(x, 2)[:, 0], [0.0, 1.0, 3.0, 5.0])


def test_settled_leaves_out_a_second_after_each_change():
    cmd = np.zeros((200, 3))
    cmd[100:, 0] = 0.3
    ok = settled(cmd, round(SETTLE_S / DT))
    assert not ok[:50].any() and ok[50:100].all() and not ok[100:150].any() and ok[150:].all()


def test_tracking_error_of_a_swaying_walk_is_its_offset():
    """vx = 0.3 + 0.05 sin(2π·1.25 t): the stride average is 0.3 exactly, so the error is the 0.02 m/s offset."""
    t = np.arange(500) * DT
    cmd = np.tile([0.32, 0.0, 0.5], (500, 1))
    measured = np.stack([0.3 + 0.05 * np.sin(2 * np.pi * 1.25 * t), np.zeros(500), np.full(500, 0.4)], axis=1)
    m = walk_metrics([log_of(cmd, measured)], gait_frequency_hz=1.25)
    assert m.lin_vel_error_m_s == pytest.approx(0.02, abs=1e-3)
    assert m.yaw_rate_error_rad_s == pytest.approx(0.1, abs=1e-9)
    assert np.isnan(m.stand_drift_m_s)  # never commanded to stand


def test_drift_slip_and_step_frequency():
    k = 300  # 6 s standing, drifting at 0.03 m/s sideways
    measured = np.tile([0.0, 0.03, 0.0], (k, 1))
    contact = np.zeros((k, 2), bool)
    phase = (np.arange(k) * DT * 1.5) % 1.0
    contact[:, 0], contact[:, 1] = phase < 0.5, phase >= 0.5  # each foot touches down 1.5 times per second
    m = walk_metrics([log_of(np.zeros((k, 3)), measured, contact, np.full(k, 0.01))], gait_frequency_hz=1.5)
    assert m.stand_drift_m_s == pytest.approx(0.03)
    assert m.lin_vel_error_m_s == pytest.approx(0.03)
    assert m.foot_slip_m_s == pytest.approx(0.01)
    assert m.step_frequency_hz == pytest.approx(1.5, abs=0.1)
