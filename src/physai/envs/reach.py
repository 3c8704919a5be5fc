"""physai/Reach-v0: a fixed-base arm brings its end-effector site to a target sampled in a box.

The target is drawn uniformly in [target_low_m, target_high_m] (base frame) at reset. Observation: REACH
terms (joint_pos_rel, joint_vel, ee_pos, target_pos, last_action). Step info: `distance_m` (end effector to
target) and `is_success` (within `success_tolerance_m`).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from physai.contract import REACH_TERMS
from physai.envs import rewards
from physai.envs.config import ReachConfig
from physai.envs.gym_env import PhysaiEnv
from physai.envs.task import VecTask
from physai.robot.state import RobotState


class ReachTask(VecTask):
    """Reach a sampled target with the end-effector site, over N worlds."""

    config_type = ReachConfig
    default_config = "reach"
    default_robot: ClassVar[str] = "testbed_arm"
    default_terms = REACH_TERMS

    def __init__(self, robot: str = "testbed_arm", num_worlds: int = 1, **kwargs: object) -> None:
        """See VecTask; `robot` must have an end_effector_site."""
        super().__init__(robot, num_worlds, **kwargs)  # type: ignore[arg-type]
        if self.spec.end_effector_site is None:
            raise ValueError(f"Reach needs a robot with end_effector_site; {self.spec.name} has none")
        self.config: ReachConfig
        model = self.sim.model
        self._ee = model.site(self.spec.end_effector_site).id
        self._base = model.body(self.spec.base_body).id
        self._site_xpos, self._xpos, self._xmat = (self.sim.field(f) for f in ("site_xpos", "xpos", "xmat"))
        self.target_m = np.zeros((num_worlds, 3))
        """Target position in the base frame per world (m)."""

    def ee_pos_m(self, worlds: np.ndarray | slice = slice(None)) -> np.ndarray:
        """End-effector position relative to the base, in the base frame (m), (len(worlds), 3)."""
        rot = self._xmat[worlds, self._base].reshape(-1, 3, 3)
        offset = self._site_xpos[worlds, self._ee] - self._xpos[worlds, self._base]
        return np.einsum("wji,wj->wi", rot, offset)

    def _task_reset(self, worlds: np.ndarray, rngs: list[np.random.Generator]) -> None:
        for world, rng in zip(worlds, rngs, strict=True):
            self.target_m[world] = rng.uniform(self.config.target_low_m, self.config.target_high_m)

    def _extra_inputs(self, worlds: np.ndarray) -> dict[str, np.ndarray]:
        return {"ee_pos": self.ee_pos_m(worlds), "target_pos": self.target_m[worlds].copy()}

    def _evaluate(
        self, state: RobotState, action: np.ndarray
    ) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray]]:
        cfg, w = self.config, self.config.rewards
        distance = np.linalg.norm(self.ee_pos_m() - self.target_m, axis=-1)
        hit = rewards.success(distance, cfg.success_tolerance_m)
        raw = {
            "distance": rewards.distance_shaping(distance, cfg.distance_sigma_m),
            "success": hit,
            "action_rate": rewards.action_rate(action, self.last_action),
        }
        terms = {name: getattr(w, name) * value for name, value in raw.items()}
        info = {"distance_m": distance, "is_success": hit > 0}
        return terms, (hit > 0) & cfg.terminate_on_success, info


class ReachEnv(PhysaiEnv):
    """Gymnasium env `physai/Reach-v0` (robot testbed_arm)."""

    task_type = ReachTask
