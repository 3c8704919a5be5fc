"""Random pushes per world of a VecTask: the schedule the balance and walk tasks share.

Each world draws its next push time uniformly in `interval_s` after every push and at reset, and each push
from `physai.sim.push.draw_push` (speed in `velocity_m_s`, random heading), added to the base free joint's
world-frame linear velocity. World k draws only from its own rng, so its pushes do not depend on the others.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from physai.envs.config import PushConfig
from physai.sim import BatchSim
from physai.sim.push import draw_push


class BatchPushes:
    """The push schedule of `sim.nsim` worlds."""

    def __init__(self, sim: BatchSim, config: PushConfig) -> None:
        self.sim, self.config = sim, config
        self.next_s = np.full(sim.nsim, np.inf)
        """Sim time of each world's next push (s), (N,)."""
        self.pushed = np.zeros(sim.nsim, dtype=bool)
        """Worlds pushed before the current step's physics, (N,)."""
        self.log: list[tuple[int, float, float, float]] = []
        """(world, time_s, dvx, dvy) of the pushes in the worlds' current episodes (m/s, world frame)."""
        self._base_dof = sim.layout.base_dof

    def _schedule(self, world: int, now_s: float, rng: np.random.Generator) -> None:
        self.next_s[world] = now_s + rng.uniform(*self.config.interval_s) if self.config.enabled else np.inf

    def reset(self, worlds: np.ndarray, rngs: Sequence[np.random.Generator]) -> None:
        """Forget the restarted worlds' pushes and schedule their first."""
        restarted = set(worlds.tolist())
        self.log = [entry for entry in self.log if entry[0] not in restarted]
        for world, rng in zip(worlds, rngs, strict=True):
            self._schedule(int(world), 0.0, rng)

    def apply(self, rngs: Sequence[np.random.Generator]) -> None:
        """Push the worlds whose time has come (before a step's physics); `rngs[k]` is world k's rng."""
        now = self.sim.time_s
        self.pushed = now + 1e-9 >= self.next_s
        for world in np.flatnonzero(self.pushed):
            dv = draw_push(rngs[world], self.config.velocity_m_s)
            self.sim.qvel[world, self._base_dof : self._base_dof + 2] += dv
            self.log.append((int(world), float(now[world]), float(dv[0]), float(dv[1])))
            self._schedule(int(world), float(now[world]), rngs[world])
