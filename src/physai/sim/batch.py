"""BatchSim: N worlds of one robot stepped together on MuJoCo's own thread pool (`mujoco.batch.Batch`).

Same actuator model as Simulator (PD inside MuJoCo, kp/kd per world in the expanded `actuator_biasprm`),
same reset and the same `read_state`, so for equal seeds and commands each world equals a Simulator
bit for bit. Command arrays are (nsim, n_joints) or broadcastable to it; states have a leading (nsim,).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import mujoco
import mujoco.batch
import numpy as np

from physai.robot.command import JointCommand
from physai.robot.spec import RobotSpec
from physai.robot.state import RobotState
from physai.sim.mjcf import PHYSICS_DT_S, build_model
from physai.sim.reset import initial_qpos
from physai.sim.simulator import as_spec
from physai.sim.state import StateLayout, read_state


class BatchSim:
    """`nsim` copies of a robot, stepped on `nthread` threads (default: all CPUs)."""

    def __init__(
        self,
        robot: RobotSpec | str,
        nsim: int,
        scene: str = "flat",
        nthread: int | None = None,
        physics_dt: float = PHYSICS_DT_S,
    ) -> None:
        self.spec = as_spec(robot)
        self.model = build_model(self.spec, scene, physics_dt)
        self.layout = StateLayout.from_model(self.model, self.spec)
        self.batch = mujoco.batch.Batch(self.model, nsim, nthread or os.cpu_count() or 1)
        n = self.spec.n_joints
        self._gains = self.batch.expand("actuator_biasprm")[:, :n, 1:3]  # (nsim, n, 2): (−kp, −kd)
        self._ctrl = self.batch.bind("ctrl")
        self._qpos = self.batch.bind("qpos")
        self._qvel = self.batch.bind("qvel")
        self._time = self.batch.bind("time")
        self._force = self.batch.bind("actuator_force")
        self._sensordata = self.batch.bind("sensordata")
        self.reset()

    @property
    def nsim(self) -> int:
        """Number of worlds."""
        return self.batch.nsim

    @property
    def physics_dt(self) -> float:
        """Physics period (s)."""
        return float(self.model.opt.timestep)

    def reset(
        self, seeds: Sequence[int | None] | int | None = None, noise: float = 0.0, ids: Sequence[int] | None = None
    ) -> None:
        """Reset worlds `ids` (default all) as Simulator.reset does, world k with seeds[k] (or one seed for all)."""
        rows = np.arange(self.nsim) if ids is None else np.asarray(ids, dtype=np.int64)
        if seeds is None or isinstance(seeds, (int, np.integer)):
            seeds = [seeds] * len(rows)
        if len(seeds) != len(rows):
            raise ValueError(f"reset got {len(seeds)} seeds for {len(rows)} worlds; expected one per world")
        self.batch.reset(rows, stage=mujoco.mjtStage.mjSTAGE_NONE)
        for row, seed in zip(rows, seeds, strict=True):
            self._qpos[row] = initial_qpos(self.model.qpos0, self.layout, self.spec, seed, noise)
        self.batch.forward(rows)
        self.apply(JointCommand.hold(self.spec), ids=rows)

    def apply(self, command: JointCommand, ids: Sequence[int] | np.ndarray | None = None) -> None:
        """Set targets and gains for worlds `ids` (default all); arrays (len(ids), n) or broadcastable."""
        rows = slice(None) if ids is None else np.asarray(ids, dtype=np.int64)
        count = self.nsim if ids is None else len(rows)
        cmd = command.validated(self.spec.n_joints, (count,))
        self._gains[rows, :, 0] = -cmd.kp
        self._gains[rows, :, 1] = -cmd.kd
        self._ctrl[rows, : self.spec.n_joints] = cmd.to_ctrl()

    def step(self, n: int = 1) -> None:
        """Advance every world `n` physics steps (n = 0 does nothing)."""
        if n > 0:
            self.batch.step(nstep=n)

    @property
    def qvel(self) -> np.ndarray:
        """Live (nsim, nv) joint velocities; writes take effect at the next step (e.g. push impulses)."""
        return self._qvel

    @property
    def time_s(self) -> np.ndarray:
        """Simulation time of each world (s), (nsim,) copy."""
        return self._time.copy()

    def field(self, name: str) -> np.ndarray:
        """Live (nsim, ...) view of any MjData field (derived fields are read-only, one substep behind)."""
        return self.batch.bind(name)

    def world_data(self, world: int) -> mujoco.MjData:
        """A forwarded MjData of one world, e.g. for rendering."""
        data = self.batch.get_data(world)
        mujoco.mj_forward(self.model, data)
        return data

    def state(self) -> RobotState:
        """States of all worlds, each field with a leading (nsim,)."""
        return read_state(self.layout, self._qpos, self._qvel, self._force, self._sensordata, self._time)
