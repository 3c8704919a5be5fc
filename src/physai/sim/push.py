"""The push model: a horizontal velocity change of the floating base, random heading.

One definition for the balance env (random intervals and speeds per world, `draw_push`) and for the
simulated robots behind ROS (sim_node, motor_sim_node: a fixed speed every `interval_s`, `PeriodicPushes`).
The change is added to the base free joint's world-frame linear velocity (Simulator.push_base,
BatchSim qvel), so a push in the env and one in a ROS run are the same disturbance.
"""

from __future__ import annotations

import numpy as np


def draw_push(rng: np.random.Generator, speed_m_s: tuple[float, float]) -> np.ndarray:
    """(dvx, dvy) (m/s, world frame): speed uniform in [lo, hi], then heading uniform in [0, 2π).

    A fixed speed (lo == hi) draws the heading only, so a seed gives the same pushes as a run of the nodes
    before this function existed (HIL scenarios rely on the pushes of their seed).
    """
    lo, hi = speed_m_s
    speed = lo if lo == hi else rng.uniform(lo, hi)
    heading = rng.uniform(0.0, 2.0 * np.pi)
    return speed * np.array([np.cos(heading), np.sin(heading)])


class PeriodicPushes:
    """A push of `speed_m_s` every `interval_s` of sim time, the first at `interval_s`; none if speed is 0."""

    def __init__(self, speed_m_s: float, interval_s: float, rng: np.random.Generator) -> None:
        if not (speed_m_s >= 0 and interval_s > 0):
            raise ValueError(
                f"push speed {speed_m_s!r} m/s, interval {interval_s!r} s; expected speed ≥ 0, interval > 0"
            )
        self.speed_m_s, self.interval_s, self.rng = speed_m_s, interval_s, rng
        self.next_s = interval_s
        """Sim time of the next push (s)."""

    def due(self, now_s: float) -> np.ndarray | None:
        """The push to apply at sim time `now_s` (s), or None; the schedule moves one interval on."""
        if self.speed_m_s <= 0 or now_s + 1e-9 < self.next_s:
            return None
        self.next_s += self.interval_s
        return draw_push(self.rng, (self.speed_m_s, self.speed_m_s))
