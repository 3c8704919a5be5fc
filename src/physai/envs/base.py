"""PhysaiEnv: the Gymnasium env shared by the physai tasks (one Simulator, the policy contract, randomization).

One env step = one policy step of `contract.control_dt_s`: the action in [−1, 1]^n becomes joint targets via
`action_to_targets`, is sent as `JointCommand(q=targets, dq=0, kp, kd, tau_ff=0)` (after the episode's action
latency, if randomized) and the simulator advances `contract.decimation` physics steps. The observation is
`ObservationBuilder(contract)` of the (optionally noisy) state, so it is exactly what a deployed policy sees.
Subclasses supply the task: target/command, reward terms, termination.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from physai.contract import ObservationBuilder, ObservationTerm, PolicyContract, action_to_targets
from physai.envs.config import RandomizationConfig
from physai.envs.randomization import EpisodeSample, ModelRandomizer, ObservationInputs, add_sensor_noise
from physai.sim import JointCommand, RobotState, Simulator

OBS_LIMIT = 1.0e4
"""Bound of the observation Box; observations are clipped to it (reached only by diverged physics)."""


class PhysaiEnv(gym.Env[np.ndarray, np.ndarray]):
    """Base class: a Simulator driven through a PolicyContract. Observation and action are float32 vectors."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": [], "render_fps": 50}

    def __init__(
        self,
        robot: str,
        *,
        scene: str,
        terms: Sequence[ObservationTerm | str] | None,
        control_dt_s: float,
        action_scale: float | Sequence[float],
        episode_length_s: float,
        reset_joint_noise_rad: float,
        randomization: RandomizationConfig,
    ) -> None:
        self.sim = Simulator(robot, scene=scene)
        self.robot_spec = self.sim.spec
        self.contract = PolicyContract.for_robot(
            self.robot_spec,
            terms=terms,
            action_scale=action_scale if isinstance(action_scale, (int, float)) else tuple(action_scale),
            control_dt_s=control_dt_s,
            physics_dt_s=self.sim.physics_dt,
        )
        """The policy contract (observation terms, action mapping, gains, rates); export embeds it."""
        n = self.robot_spec.n_joints
        self.decimation = self.contract.decimation
        latency_max = randomization.action_latency.range[1]
        if randomization.action_latency.enabled and latency_max >= self.decimation:
            raise ValueError(
                f"randomization.action_latency.range max is {latency_max} physics steps; expected < the decimation "
                f"({self.decimation})"
            )
        self.max_episode_steps = max(1, round(episode_length_s / self.contract.control_dt_s))
        self.reset_joint_noise_rad = reset_joint_noise_rad
        self.randomization = randomization
        self._randomizer = ModelRandomizer(self.sim, randomization)
        self._builder = ObservationBuilder(self.contract)
        self._kp = np.asarray(self.contract.kp)
        self._kd = np.asarray(self.contract.kd)
        self._default = np.asarray(self.contract.default_pos)
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(n,), dtype=np.float32)
        self.observation_space = gym.spaces.Box(-OBS_LIMIT, OBS_LIMIT, shape=(self.contract.obs_dim,), dtype=np.float32)
        self.command = np.zeros(3)
        """Velocity command (vx m/s, vy m/s, yaw rate rad/s) fed to `velocity_command`; zero for these tasks."""
        self.last_action = np.zeros(n)
        self.episode: EpisodeSample | None = None
        self.steps = 0
        self._held: JointCommand | None = None

    # ---- hooks for tasks -----------------------------------------------------------------------------------
    def _task_reset(self, rng: np.random.Generator) -> None:
        """Draw the task's episode values (targets, push times); called after the simulator reset."""

    def _before_physics(self) -> None:
        """Per policy step, before physics (e.g. pushes)."""

    def _extra_inputs(self) -> dict[str, np.ndarray]:
        """Extra observation inputs (ee_pos, target_pos) in the base frame."""
        return {}

    def _evaluate(self, state: RobotState, action: np.ndarray) -> tuple[dict[str, float], bool, dict[str, Any]]:
        """(weighted reward terms, terminated, extra info) for the step that just ran."""
        raise NotImplementedError

    # ---- gymnasium API -------------------------------------------------------------------------------------
    def observation_inputs(self, state: RobotState | None = None) -> ObservationInputs:
        """Noise-free observation inputs of the current simulator state."""
        s = self.sim.state() if state is None else state
        return ObservationInputs(
            joint_pos=s.joint_pos,
            joint_vel=s.joint_vel,
            gyro=s.gyro,
            imu_quat=s.imu_quat,
            base_lin_vel=s.base_lin_vel,
            **self._extra_inputs(),
        )

    def _observe(self, state: RobotState) -> np.ndarray:
        inputs = add_sensor_noise(self.observation_inputs(state), self.randomization.sensor_noise, self.np_random)
        return np.clip(self._builder(inputs, self.command, self.last_action), -OBS_LIMIT, OBS_LIMIT)

    def _command(self, targets: np.ndarray) -> JointCommand:
        assert self.episode is not None
        n = self.robot_spec.n_joints
        return JointCommand(
            q=targets, dq=np.zeros(n), kp=self._kp * self.episode.kp_scale, kd=self._kd * self.episode.kd_scale,
            tau_ff=np.zeros(n),
        )  # fmt: skip

    def reset(
        self, *, seed: int | None = None, options: Mapping[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode; `seed` fixes the simulator start, randomization, pushes, targets and noise."""
        super().reset(seed=seed, options=options)
        rng = self.np_random
        self.episode = self._randomizer.sample(rng)
        sim_seed = int(rng.integers(2**31))
        state = self.sim.reset(seed=sim_seed, noise=self.reset_joint_noise_rad)
        self._held = self._command(self._default)
        self.sim.apply(self._held)
        self.last_action = np.zeros(self.robot_spec.n_joints)
        self.steps = 0
        self._builder.reset()
        self._task_reset(rng)
        return self._observe(state), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Advance one policy step (`contract.control_dt_s`) with `action` in [−1, 1]^n_joints."""
        if self.episode is None or self._held is None:
            raise RuntimeError("call reset() before step()")
        action = np.asarray(action, dtype=np.float64).reshape(self.robot_spec.n_joints)
        if not np.isfinite(action).all():
            raise ValueError(f"action contains NaN or Inf: {action}; expected finite values in [-1, 1]")
        command = self._command(action_to_targets(action, self.contract))
        self._before_physics()
        latency = self.episode.latency_steps
        if latency:
            self.sim.apply(self._held)
            self.sim.step(latency)
        self.sim.apply(command)
        self.sim.step(self.decimation - latency)
        self._held = command
        self.steps += 1
        state = self.sim.state()
        terms, terminated, info = self._evaluate(state, action)
        if not (np.isfinite(state.joint_pos).all() and np.isfinite(state.base_pos).all()):
            terminated = True  # diverged physics: end the episode rather than feed NaN to the learner
        self.last_action = action
        obs = self._observe(state)
        truncated = not terminated and self.steps >= self.max_episode_steps
        info["reward_terms"] = terms
        return obs, float(sum(terms.values())), bool(terminated), bool(truncated), info
