"""VecTask: one task over N worlds of a BatchSim, vectorised; the Gymnasium env is its N = 1 case.

One step = one policy step of `contract.control_dt_s`: actions in [−1, 1]^(N×n) become joint targets via
`action_to_targets`, each world's command takes effect after its randomized action latency, and all worlds
advance `contract.decimation` physics steps together on MuJoCo's threads. Observations come from one
`ObservationBuilder(contract)` over the (noisy) states, so they are exactly what a deployed policy sees.
Every world draws from its own rng, seeded per world, so a world's trajectory is the same whether it runs
alone (`PhysaiEnv`) or in a batch (`physai.rl.BatchVecEnv`), and each step costs one Python pass for all
worlds. Subclasses implement the task hooks on (N, ...) arrays.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from gymnasium.utils import seeding

from physai.contract import ObservationBuilder, ObservationTerm, PolicyContract, action_to_targets, clip_action
from physai.envs.config import load_task_config
from physai.envs.randomization import BatchRandomizer, ObservationInputs, add_sensor_noise
from physai.robot.command import JointCommand
from physai.robot.state import RobotState
from physai.sim import BatchSim

OBS_LIMIT = 1.0e4
"""Observations are clipped to ±OBS_LIMIT (reached only by diverged physics)."""


@dataclass(frozen=True)
class StepResult:
    """One vectorised step; leading dim (N,)."""

    obs: np.ndarray
    """Next observations, float32 (N, obs_dim) (before any reset)."""
    reward: np.ndarray
    """Sum of weighted reward terms, (N,)."""
    terminated: np.ndarray
    """Episode ended by the task (fall, success), (N,) bool."""
    truncated: np.ndarray
    """Episode reached its length, (N,) bool."""
    reward_terms: dict[str, np.ndarray]
    """Weighted reward terms by name, each (N,)."""
    info: dict[str, np.ndarray]
    """Task quantities by name (e.g. fell, distance_m), each (N,)."""


def held_joints(joint_names: Sequence[str], driven: Sequence[str]) -> list[str]:
    """Joints not matched by any of the `driven` name substrings (none when `driven` is empty: all are driven).

    ValueError names a substring that matches no joint (a typo would silently hold joints meant to be driven).
    """
    for key in driven:
        if not any(key in n for n in joint_names):
            raise ValueError(f"driven_joints entry {key!r} matches no joint; the robot has {', '.join(joint_names)}")
    return [n for n in joint_names if driven and not any(k in n for k in driven)]


class VecTask:
    """N worlds of one task. Subclasses set `config_type` and implement the hooks below."""

    config_type: ClassVar[type]
    """The task config dataclass (loaded from sim_envs/tasks/<name>.yaml)."""
    default_config: ClassVar[str]
    """Task YAML name under sim_envs/tasks."""
    default_robot: ClassVar[str]
    """Robot used when none is given."""
    default_terms: ClassVar[tuple[ObservationTerm, ...]]
    """Observation terms of the contract."""
    render_mode: ClassVar[None] = None
    """Tasks do not render; PhysaiEnv.render and physai.sim.render.VideoRecorder do."""

    def __init__(
        self,
        robot: str,
        num_worlds: int = 1,
        *,
        config: Any = None,
        overrides: Mapping[str, Any] | None = None,
        terms: Sequence[ObservationTerm | str] | None = None,
        scene: str = "flat",
        nthread: int | None = None,
    ) -> None:
        """`config`: a config dataclass, a task name under sim_envs/tasks or a YAML path; `overrides`: nested dict."""
        if config is None or isinstance(config, (str, Path)):
            config = load_task_config(self.config_type, config or self.default_config, overrides)
        elif overrides:
            raise ValueError("overrides apply to a YAML config; pass a modified config dataclass instead")
        self.config = config
        self.sim = BatchSim(robot, num_worlds, scene=scene, nthread=nthread, physics_dt=config.physics_dt_s)
        self.spec = self.sim.spec
        scale = config.action_scale
        self.contract = PolicyContract.for_robot(
            self.spec,
            terms=tuple(terms or self.default_terms),
            action_scale=scale if isinstance(scale, (int, float)) else tuple(scale),
            control_dt_s=config.control_dt_s,
            physics_dt_s=self.sim.physics_dt,
            held=held_joints(self.spec.joint_names, getattr(config, "driven_joints", ())),
            **self._contract_options(config),
        )
        """The policy contract (observation terms, action mapping, gains, rates); export embeds it."""
        self.decimation = self.contract.decimation
        latency = config.randomization.action_latency
        if latency.enabled and latency.range[1] >= self.decimation:
            raise ValueError(
                f"randomization.action_latency.range max is {latency.range[1]} physics steps; expected < the "
                f"decimation ({self.decimation})"
            )
        n, n_robot = self.contract.action_dim, self.spec.n_joints
        self.num_worlds = num_worlds
        self.max_episode_steps = max(1, round(config.episode_length_s / self.contract.control_dt_s))
        self.randomizer = BatchRandomizer(self.sim, config.randomization)
        self.rngs = [seeding.np_random()[0] for _ in range(num_worlds)]
        self.command = np.zeros((num_worlds, 3))
        """Velocity command per world (vx m/s, vy m/s, yaw rate rad/s)."""
        self.last_action = np.zeros((num_worlds, n))
        self.steps = np.zeros(num_worlds, dtype=np.int64)
        self._builder = ObservationBuilder(self.contract, batch_shape=(num_worlds,))
        hold_q, self._kp, self._kd = self.contract.robot_targets(self.spec, self.contract.default_pos)
        self.robot_default = hold_q
        """Default pose of every robot joint, robot order (rad): the contract's, and held joints' hold positions."""
        self._default = np.asarray(self.contract.default_pos)  # contract order: the zero action
        self._driven = np.array([self.spec.joint_names.index(j) for j in self.contract.joint_names], dtype=np.int64)
        self._subset = n != n_robot  # the policy drives some joints; the others hold hold_q
        self._zeros = np.zeros((num_worlds, n_robot))
        self._all = np.arange(num_worlds)

    # ---- task hooks (arrays over the given worlds) ---------------------------------------------------------
    @classmethod
    def _contract_options(cls, config: Any) -> dict[str, Any]:
        """Extra PolicyContract.for_robot arguments of the task (e.g. gait_frequency_hz, command_ranges)."""
        return {}

    def _task_reset(self, worlds: np.ndarray, rngs: list[np.random.Generator]) -> None:
        """Draw the task's episode values (targets, push times) for `worlds`, after their simulator reset."""

    def _before_physics(self) -> None:
        """Once per policy step before physics (e.g. pushes)."""

    def close(self) -> None:
        """Free what the task holds beyond the simulator (e.g. a renderer); the default holds nothing."""

    def _extra_inputs(self, worlds: np.ndarray) -> dict[str, np.ndarray]:
        """Extra observation inputs (ee_pos, target_pos) of `worlds`, base frame, (len(worlds), 3) each."""
        return {}

    def _evaluate(
        self, state: RobotState, action: np.ndarray
    ) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray]]:
        """(weighted reward terms (N,), terminated (N,), info arrays (N,)) for the step that just ran."""
        raise NotImplementedError

    # ---- vectorised API ------------------------------------------------------------------------------------
    def seed(self, world: int, seed: int | None) -> None:
        """Re-seed one world's rng (gymnasium's seeding, as `Env.reset(seed=...)` does)."""
        self.rngs[world] = seeding.np_random(seed)[0]

    def reset(self, worlds: Sequence[int] | np.ndarray, seeds: Sequence[int | None] | None = None) -> np.ndarray:
        """Start new episodes in `worlds` (re-seeding those given a seed); return their observations, float32."""
        worlds = np.asarray(worlds, dtype=np.int64)
        for k, world in enumerate(worlds):
            if seeds is not None and seeds[k] is not None:
                self.seed(int(world), seeds[k])
        rngs = [self.rngs[w] for w in worlds]
        self.randomizer.sample(worlds, rngs)
        sim_seeds = [int(rng.integers(2**31)) for rng in rngs]
        self.sim.reset(sim_seeds, noise=self.config.reset_joint_noise_rad, ids=worlds)
        self._apply(worlds, np.broadcast_to(self._default, (len(worlds), self.contract.action_dim)))
        self.last_action[worlds] = 0.0
        self.steps[worlds] = 0
        mask = np.zeros(self.num_worlds, dtype=bool)
        mask[worlds] = True
        self._builder.reset(mask)
        self._task_reset(worlds, rngs)
        return self._observe(self.sim.state(), worlds)

    def step(self, actions: np.ndarray) -> StepResult:
        """Advance every world one policy step with `actions` in [−1, 1], (N, action_dim)."""
        n = self.contract.action_dim
        actions = np.asarray(actions, dtype=np.float64).reshape(self.num_worlds, n)
        if not np.isfinite(actions).all():
            raise ValueError("actions contain NaN or Inf; expected finite values in [-1, 1]")
        targets = action_to_targets(actions, self.contract)
        self._before_physics()
        latency = self.randomizer.samples.latency_steps
        done = 0
        for delay in np.unique(latency):  # ascending; each world's new command starts after its latency
            self.sim.step(int(delay) - done)
            done = int(delay)
            worlds = self._all if len(latency) == 1 or (latency == delay).all() else np.flatnonzero(latency == delay)
            self._apply(worlds, targets[worlds])
        self.sim.step(self.decimation - done)
        self.steps += 1
        state = self.sim.state()
        actions = clip_action(actions, self.contract)  # what was applied (= last_action)
        terms, terminated, info = self._evaluate(state, actions)
        diverged = ~(np.isfinite(state.joint_pos).all(axis=-1) & np.isfinite(state.base_pos).all(axis=-1))
        terminated = terminated | diverged  # end the episode rather than feed NaN to the learner
        self.last_action = actions
        obs = self._observe(state, self._all)
        truncated = ~terminated & (self.steps >= self.max_episode_steps)
        reward = np.sum(list(terms.values()), axis=0)
        return StepResult(obs, reward, terminated, truncated, terms, info)

    # ---- helpers -------------------------------------------------------------------------------------------
    def _apply(self, worlds: np.ndarray, targets: np.ndarray) -> None:
        """Targets (len(worlds), action_dim) of the driven joints; held joints keep their hold position."""
        s = self.randomizer.samples
        zeros = self._zeros[: len(worlds)]
        if self._subset:
            full = np.broadcast_to(self.robot_default, zeros.shape).copy()
            full[:, self._driven] = targets
            targets = full
        command = JointCommand(
            q=targets, dq=zeros, kp=self._kp * s.kp_scale[worlds], kd=self._kd * s.kd_scale[worlds], tau_ff=zeros
        )
        self.sim.apply(command, ids=None if len(worlds) == self.num_worlds else worlds)

    def observation_inputs(self, state: RobotState, worlds: np.ndarray) -> ObservationInputs:
        """Noise-free observation inputs of `worlds` from a batched state."""
        joint_pos, joint_vel = state.joint_pos[worlds], state.joint_vel[worlds]
        if self._subset:  # the contract's joints, in its order
            joint_pos, joint_vel = joint_pos[:, self._driven], joint_vel[:, self._driven]
        return ObservationInputs(
            joint_pos=joint_pos,
            joint_vel=joint_vel,
            gyro=state.gyro[worlds],
            imu_quat=state.imu_quat[worlds],
            base_lin_vel=state.base_lin_vel[worlds],
            **self._extra_inputs(worlds),
        )

    def clock_s(self) -> np.ndarray:
        """Gait clock time (s) of the observation each world gets next, (N,) (the builder's count; see terms)."""
        return np.broadcast_to(self._builder.clock_s(), (self.num_worlds,)).astype(np.float64)

    def _observe(self, state: RobotState, worlds: np.ndarray) -> np.ndarray:
        noise = self.config.randomization.sensor_noise
        inputs = self.observation_inputs(state, worlds)
        if self.config.randomization.encoder_bias_rad.enabled:
            bias = self.randomizer.samples.encoder_bias_rad[worlds]
            bias = bias[:, self._driven] if self._subset else bias
            inputs = dataclasses.replace(inputs, joint_pos=inputs.joint_pos + bias)
        inputs = add_sensor_noise(inputs, noise, [self.rngs[w] for w in worlds])
        obs = self._builder(inputs, self.command[worlds], self.last_action[worlds], worlds=worlds)
        return np.clip(obs, -OBS_LIMIT, OBS_LIMIT)
