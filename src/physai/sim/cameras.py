"""Where a robot's cameras are: the pose of an MJCF camera in the robot's base frame, from the compiled model."""

from __future__ import annotations

import mujoco
import numpy as np

from physai.robot.spec import RobotSpec
from physai.sim.mjcf import build_model


def camera_in_base(spec: RobotSpec, camera: str, scene: str = "flat") -> np.ndarray:
    """4×4 pose of MJCF camera `camera` in the base body frame, at the robot's default pose.

    The camera frame is MuJoCo's (x right, y up, looking along −z). A camera fixed to the world or the base
    keeps this pose; one on a moving link (a wrist camera) would need the joint positions. ValueError names
    an unknown camera.
    """
    model = build_model(spec, scene)
    try:
        cam = model.camera(camera).id
    except KeyError:
        names = [model.camera(i).name for i in range(model.ncam)]
        raise ValueError(f"camera {camera!r} is not in {spec.name}'s model; expected one of {names}") from None
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    base = model.body(spec.base_body).id
    r_base, p_base = data.xmat[base].reshape(3, 3), data.xpos[base]
    pose = np.eye(4)
    pose[:3, :3] = r_base.T @ data.cam_xmat[cam].reshape(3, 3)
    pose[:3, 3] = r_base.T @ (data.cam_xpos[cam] - p_base)
    return pose
