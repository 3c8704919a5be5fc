"""physai/Reach-v0: a fixed-base arm brings its end-effector site to a target sampled in a box.

The target is drawn uniformly in [target_low_m, target_high_m] (base frame) at reset. Observation: REACH
terms (joint_pos_rel, joint_vel, ee_pos, target_pos, last_action). Step info: `distance_m` (end effector to
target) and `is_success` (within `success_tolerance_m`).

With `target_camera` (scene marker_cube), the target comes from vision: at reset the marker cube is put
with its marker's centre on the sampled target, turned to the camera, one frame is rendered and
physai.vision finds the marker; the policy observes the detected position (base frame), the reward and
success use the true target. A marker not seen gives the end effector's own position (the arm holds).
Extra step info: `target_seen`, `target_error_m` (detected vs true).
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
        self.observed_target_m = self.target_m
        """What the policy is told the target is: the target itself, or its detected position (vision)."""
        self.target_seen = np.ones(num_worlds, dtype=bool)
        self._camera = None
        if self.config.target_camera:
            self._camera = _TargetCamera(self, self.config)
            self.observed_target_m = np.zeros((num_worlds, 3))

    def ee_pos_m(self, worlds: np.ndarray | slice = slice(None)) -> np.ndarray:
        """End-effector position relative to the base, in the base frame (m), (len(worlds), 3)."""
        rot = self._xmat[worlds, self._base].reshape(-1, 3, 3)
        offset = self._site_xpos[worlds, self._ee] - self._xpos[worlds, self._base]
        return np.einsum("wji,wj->wi", rot, offset)

    def _task_reset(self, worlds: np.ndarray, rngs: list[np.random.Generator]) -> None:
        for world, rng in zip(worlds, rngs, strict=True):
            self.target_m[world] = rng.uniform(self.config.target_low_m, self.config.target_high_m)
            if self._camera is not None:
                seen = self._camera.locate(int(world), rng)
                self.target_seen[world] = seen is not None
                self.observed_target_m[world] = seen if seen is not None else self.ee_pos_m(np.array([world]))[0]

    def _extra_inputs(self, worlds: np.ndarray) -> dict[str, np.ndarray]:
        return {"ee_pos": self.ee_pos_m(worlds), "target_pos": self.observed_target_m[worlds].copy()}

    def close(self) -> None:
        """Free the target camera's renderer."""
        if self._camera is not None:
            self._camera.renderer.close()
            self._camera = None

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
        if self._camera is not None:
            info["target_seen"] = self.target_seen.copy()
            info["target_error_m"] = np.linalg.norm(self.observed_target_m - self.target_m, axis=-1)
        return terms, (hit > 0) & cfg.terminate_on_success, info


class _TargetCamera:
    """Puts the marker cube on a world's target, renders the target camera there and detects the marker."""

    def __init__(self, task: ReachTask, config: ReachConfig) -> None:
        import mujoco

        from physai.sim.cameras import camera_id
        from physai.sim.marker import CUBE_BODY
        from physai.vision import ImageNoise, Intrinsics

        model = task.sim.model
        try:
            model.body(CUBE_BODY)
        except KeyError:
            raise ValueError(
                f"target_camera {config.target_camera!r} needs the marker cube in the scene: scene='marker_cube'"
            ) from None
        fovy = float(model.cam_fovy[camera_id(model, config.target_camera)])
        self.task, self.camera = task, config.target_camera
        self.intrinsics = Intrinsics.from_fovy(config.camera_width, config.camera_height, fovy)
        self.noise = ImageNoise.parse(config.image_noise, "image_noise")  # FieldError naming it
        self.renderer = mujoco.Renderer(model, config.camera_height, config.camera_width)

    def locate(self, world: int, rng: np.random.Generator) -> np.ndarray | None:
        """The detected marker centre in world `world`'s base frame (m), or None when it is not seen.

        `rng` (the world's) draws the image noise, if any: none is drawn without it, so the episodes stay the same.
        """
        import mujoco

        from physai.sim.marker import CUBE_BODY, CUBE_HALF_M, MARKER_ID, MARKER_SIZE_M, facing_quat
        from physai.vision import detect_markers, from_optical

        task, model = self.task, self.task.sim.model
        data = task.sim.world_data(world)
        base = model.body(task.spec.base_body).id
        r_base, p_base = data.xmat[base].reshape(3, 3), data.xpos[base].copy()
        target = p_base + r_base @ task.target_m[world]
        cam = model.camera(self.camera).id
        quat = facing_quat(target, data.cam_xpos[cam])
        rotation = np.zeros(9)
        mujoco.mju_quat2Mat(rotation, quat)
        cube = target - rotation.reshape(3, 3) @ np.array([0.0, 0.0, CUBE_HALF_M])  # marker centre on the target
        mocap = int(model.body_mocapid[model.body(CUBE_BODY).id])
        task.sim.field("mocap_pos")[world, mocap] = cube
        task.sim.field("mocap_quat")[world, mocap] = quat
        data.mocap_pos[mocap], data.mocap_quat[mocap] = cube, quat
        mujoco.mj_forward(model, data)
        self.renderer.update_scene(data, camera=self.camera)
        image = self.noise.apply(self.renderer.render(), rng)
        found = [m for m in detect_markers(image, self.intrinsics, MARKER_SIZE_M) if m.id == MARKER_ID]
        if not found:
            return None
        world_point = from_optical(found[0].position_m, data.cam_xpos[cam], data.cam_xmat[cam])
        return r_base.T @ (world_point - p_base)


class ReachEnv(PhysaiEnv):
    """Gymnasium env `physai/Reach-v0` (robot testbed_arm)."""

    task_type = ReachTask
