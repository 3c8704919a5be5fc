"""Simulator: one MuJoCo world of one robot, with the MIT-mode PD actuator model at the physics rate.

    sim = Simulator("unitree_g1")          # robot name, robot.yaml path or RobotSpec; scene "flat"
    sim.reset(seed=0, noise=0.05)          # default pose + joint noise, holding it with default gains
    sim.apply(JointCommand.hold(sim.spec)) # targets/gains until the next apply
    sim.step(10)                           # 10 physics steps (20 ms at 500 Hz)
    state = sim.state()                    # RobotState

Deterministic: the same seed and commands give bit-identical trajectories.
"""

from __future__ import annotations

import mujoco
import numpy as np

from physai.robot.command import JointCommand
from physai.robot.spec import RobotSpec
from physai.robot.state import RobotState
from physai.sim.mjcf import PHYSICS_DT_S, build_model
from physai.sim.reset import initial_qpos
from physai.sim.state import StateLayout, read_state


def as_spec(robot: RobotSpec | str) -> RobotSpec:
    """Accept a RobotSpec, a registry name or a robot.yaml path."""
    return robot if isinstance(robot, RobotSpec) else RobotSpec.load(robot)


class Simulator:
    """A single simulated robot. `model` and `data` are public for rendering and advanced use."""

    def __init__(self, robot: RobotSpec | str, scene: str = "flat", physics_dt: float = PHYSICS_DT_S) -> None:
        self.spec = as_spec(robot)
        self.scene = scene
        self.model = build_model(self.spec, scene, physics_dt)
        self.data = mujoco.MjData(self.model)
        self.layout = StateLayout.from_model(self.model, self.spec)
        n = self.spec.n_joints
        self._gains = self.model.actuator_biasprm[:n, 1:3]  # live view: (−kp, −kd) per actuator
        self.reset()

    @property
    def physics_dt(self) -> float:
        """Physics period (s)."""
        return float(self.model.opt.timestep)

    def reset(self, seed: int | None = None, noise: float = 0.0) -> RobotState:
        """Put the robot in its default pose (+ seeded joint noise, rad) at rest, holding it; return the state."""
        mujoco.mj_resetData(self.model, self.data)
        self.data.qpos[:] = initial_qpos(self.model.qpos0, self.layout, self.spec, seed, noise)
        mujoco.mj_forward(self.model, self.data)
        self.apply(JointCommand.hold(self.spec))
        return self.state()

    def apply(self, command: JointCommand) -> None:
        """Set targets and gains (held until the next apply). Raises ValueError on NaN/Inf or wrong lengths."""
        cmd = command.validated(self.spec.n_joints)
        self._gains[:, 0] = -cmd.kp
        self._gains[:, 1] = -cmd.kd
        self.data.ctrl[: self.spec.n_joints] = cmd.to_ctrl()

    def step(self, n: int = 1) -> None:
        """Advance `n` physics steps, the PD law evaluated at each."""
        mujoco.mj_step(self.model, self.data, nstep=n)

    def state(self) -> RobotState:
        """The robot's current state (copies)."""
        d = self.data
        return read_state(self.layout, d.qpos, d.qvel, d.actuator_force, d.sensordata, d.time)

    def push_base(self, dv_xy_m_s: np.ndarray) -> None:
        """Add a horizontal velocity (m/s, world frame) to a floating base, e.g. a push; no-op for a fixed base."""
        dof = self.layout.base_dof
        if dof >= 0:
            self.data.qvel[dof : dof + 2] += dv_xy_m_s

    def set_state(self, qpos: np.ndarray, qvel: np.ndarray) -> None:
        """Overwrite the full MuJoCo qpos (nq,) and qvel (nv,), then recompute derived quantities."""
        self.data.qpos[:] = qpos
        self.data.qvel[:] = qvel
        mujoco.mj_forward(self.model, self.data)
