"""Where a robot's cameras are: the pose of an MJCF camera in the robot's base frame, from the compiled model."""

from __future__ import annotations

import mujoco
import numpy as np

from physai.robot.spec import RobotSpec
from physai.sim.mjcf import build_model


def camera_id(model: mujoco.MjModel, camera: str) -> int:
    """The id of MJCF camera `camera`; ValueError naming the cameras the model has."""
    try:
        return int(model.camera(camera).id)
    except KeyError:
        names = [model.camera(i).name for i in range(model.ncam)]
        raise ValueError(f"camera {camera!r} is not in the model; expected one of {names}") from None


def camera_in_base(spec: RobotSpec, camera: str, scene: str = "flat") -> np.ndarray:
    """4×4 pose of MJCF camera `camera` in the base body frame, at the robot's default pose.

    The camera frame is MuJoCo's (x right, y up, looking along −z). A fixed-base robot's world camera, or a
    camera on the base body, keeps this pose; one on a moving link (a wrist camera) would need the joint
    positions. ValueError names an unknown camera, or a camera off the base of a floating-base robot.
    """
    model = build_model(spec, scene)
    cam = camera_id(model, camera)
    base = model.body(spec.base_body).id
    if spec.floating_base and model.cam_bodyid[cam] != base:
        raise ValueError(
            f"camera {camera!r} of {spec.name} is not on its base body {spec.base_body!r}: on a floating-base robot "
            "its pose in the base frame changes as the robot moves; expected a camera mounted on the base"
        )
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    r_base, p_base = data.xmat[base].reshape(3, 3), data.xpos[base]
    pose = np.eye(4)
    pose[:3, :3] = r_base.T @ data.cam_xmat[cam].reshape(3, 3)
    pose[:3, 3] = r_base.T @ (data.cam_xpos[cam] - p_base)
    return pose


def pose_parameter(pose: np.ndarray) -> str:
    """A 4×4 pose as perception_node's `camera_pose` parameter: "x y z qw qx qy qz" (m, unit quaternion)."""
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, np.ascontiguousarray(pose[:3, :3]).reshape(-1))
    return " ".join(f"{v:.9g}" for v in (*pose[:3, 3], *quat))
