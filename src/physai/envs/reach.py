"""physai/Reach-v0: a fixed-base arm brings its end-effector site to a target sampled in a box.

The target is drawn uniformly in [target_low_m, target_high_m] (base frame) at reset. Observation: the
contract's REACH_TERMS (joint_pos_rel, joint_vel, ee_pos, target_pos, last_action). `info["distance_m"]` is
the end-effector-to-target distance and `info["is_success"]` whether it is within `success_tolerance_m`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from physai.contract import REACH_TERMS, ObservationTerm
from physai.envs import rewards
from physai.envs.base import PhysaiEnv
from physai.envs.config import ReachConfig, load_task_config
from physai.sim import RobotState


class ReachEnv(PhysaiEnv):
    """Reach a sampled target with the end-effector site."""

    def __init__(
        self,
        robot: str = "testbed_arm",
        *,
        config: ReachConfig | str | Path = "reach",
        overrides: Mapping[str, Any] | None = None,
        terms: Sequence[ObservationTerm | str] = REACH_TERMS,
        scene: str = "flat",
    ) -> None:
        """`config`: a ReachConfig, a task name under sim_envs/tasks or a YAML path; `overrides`: nested dict."""
        if not isinstance(config, ReachConfig):
            config = load_task_config(ReachConfig, config, overrides)
        elif overrides:
            raise ValueError("overrides apply to a YAML config; pass a modified ReachConfig instead")
        self.config = config
        super().__init__(
            robot,
            scene=scene,
            terms=terms,
            control_dt_s=config.control_dt_s,
            action_scale=config.action_scale,
            episode_length_s=config.episode_length_s,
            reset_joint_noise_rad=config.reset_joint_noise_rad,
            randomization=config.randomization,
        )
        if self.robot_spec.end_effector_site is None:
            raise ValueError(f"Reach needs a robot with end_effector_site; {self.robot_spec.name} has none")
        self._ee = self.sim.data.site(self.robot_spec.end_effector_site)
        self._base = self.sim.data.body(self.robot_spec.base_body)
        self.target_m = np.zeros(3)
        """Target position in the base frame (m)."""

    def ee_pos_m(self) -> np.ndarray:
        """End-effector position relative to the base, in the base frame (m), (3,)."""
        rot = self._base.xmat.reshape(3, 3)
        return rot.T @ (self._ee.xpos - self._base.xpos)

    def _task_reset(self, rng: np.random.Generator) -> None:
        self.target_m = rng.uniform(self.config.target_low_m, self.config.target_high_m)

    def _extra_inputs(self) -> dict[str, np.ndarray]:
        return {"ee_pos": self.ee_pos_m(), "target_pos": self.target_m.copy()}

    def _evaluate(self, state: RobotState, action: np.ndarray) -> tuple[dict[str, float], bool, dict[str, Any]]:
        cfg, w = self.config, self.config.rewards
        distance = float(np.linalg.norm(self.ee_pos_m() - self.target_m))
        hit = rewards.success(distance, cfg.success_tolerance_m)
        raw = {
            "distance": rewards.distance_shaping(distance, cfg.distance_sigma_m),
            "success": hit,
            "action_rate": rewards.action_rate(action, self.last_action),
        }
        terms = {name: getattr(w, name) * value for name, value in raw.items()}
        info = {"distance_m": distance, "is_success": bool(hit)}
        return terms, bool(hit and cfg.terminate_on_success), info
