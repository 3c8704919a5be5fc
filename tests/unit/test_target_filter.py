"""physai.vision.MedianTarget: one-frame outliers left out, old detections expire, count 1 passes through."""

import numpy as np
import pytest

from physai.vision import MedianTarget

CUBE = np.array([0.41, -0.09, 0.11])
OUTLIER = np.array([0.37, -0.05, 0.07])  # a marker partly hidden by the arm: 7 cm off


def test_one_or_two_outliers_among_five_are_left_out():
    target = MedianTarget(5)
    got = [target.add(0.1 * k, OUTLIER if k in (3, 5) else CUBE + 0.001 * k) for k in range(8)]
    assert all(np.linalg.norm(g - CUBE) < 0.01 for g in got[1:])  # after the first, the cube within 1 cm
    assert np.linalg.norm(got[3] - CUBE) < 0.01 and np.linalg.norm(got[5] - CUBE) < 0.01


def test_detections_older_than_the_window_leave_the_median():
    target = MedianTarget(5, window_s=1.0)
    for k in range(5):
        target.add(0.1 * k, CUBE)
    moved = CUBE + np.array([0.1, 0.0, 0.0])
    assert np.allclose(target.add(5.0, moved), moved)  # the cube moved 4.6 s later: the old ones expired


def test_count_one_passes_each_detection_through_and_bad_settings_are_refused():
    target = MedianTarget(1)
    assert np.allclose(target.add(0.0, CUBE), CUBE) and np.allclose(target.add(0.1, OUTLIER), OUTLIER)
    with pytest.raises(ValueError, match="expected 1–100 detections"):
        MedianTarget(0)
    with pytest.raises(ValueError, match="expected seconds > 0"):
        MedianTarget(5, window_s=float("nan"))
