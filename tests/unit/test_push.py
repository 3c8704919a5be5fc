"""The one push model: speed then heading from the world's generator; periodic pushes on a fixed grid."""

import numpy as np
import pytest

from physai.sim.push import PeriodicPushes, draw_push


def test_draw_push_takes_speed_then_heading_from_the_generator():
    dv = draw_push(np.random.default_rng(7), (0.1, 0.5))
    rng = np.random.default_rng(7)
    speed, heading = rng.uniform(0.1, 0.5), rng.uniform(0.0, 2 * np.pi)
    assert np.allclose(dv, speed * np.array([np.cos(heading), np.sin(heading)]))
    assert 0.1 <= np.hypot(*dv) <= 0.5
    fixed, rng = draw_push(np.random.default_rng(7), (0.3, 0.3)), np.random.default_rng(7)
    heading = rng.uniform(0.0, 2 * np.pi)  # a fixed speed draws the heading only
    assert np.allclose(fixed, 0.3 * np.array([np.cos(heading), np.sin(heading)]))


def test_periodic_pushes_come_every_interval_at_the_given_speed():
    pushes = PeriodicPushes(0.3, 3.0, np.random.default_rng(0))
    times = [
        t
        for t in np.arange(0.0, 10.0, 0.002)
        if (dv := pushes.due(float(t))) is not None and np.isclose(np.hypot(*dv), 0.3)
    ]
    assert np.allclose(times, [3.0, 6.0, 9.0], atol=0.003)
    assert PeriodicPushes(0.0, 3.0, np.random.default_rng(0)).due(3.0) is None


def test_bad_push_settings_are_refused():
    with pytest.raises(ValueError, match="interval"):
        PeriodicPushes(0.3, 0.0, np.random.default_rng(0))
