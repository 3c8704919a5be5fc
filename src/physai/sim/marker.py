"""The marker cube of the `marker_cube` scene: place it, turn its marker face to a camera, read its true pose.

The cube is a mocap body (`scene/target_cube`), so placing it is writing mocap_pos / mocap_quat; its marker
(`scene/target_marker`, ArUco id 7 of DICT_4X4_50, black square MARKER_SIZE_M wide) is on its +z face.
"""

from __future__ import annotations

import mujoco
import numpy as np

MARKER_ID = 7
"""The marker id the scene's texture carries."""
MARKER_SIZE_M = 0.06
"""Edge of the marker's black square (m): 240 of the texture's 320 px on the cube's 0.08 m face."""
CUBE_BODY = "scene/target_cube"
MARKER_GEOM = "scene/target_marker"


def facing_quat(position: np.ndarray, look_from: np.ndarray) -> np.ndarray:
    """(w, x, y, z) that turns a body's +z axis at `position` toward the point `look_from` (world, m), x level."""
    z = np.asarray(look_from, np.float64) - np.asarray(position, np.float64)
    z /= np.linalg.norm(z)
    x = np.cross([0.0, 0.0, 1.0], z)
    x = x / np.linalg.norm(x) if np.linalg.norm(x) > 1e-9 else np.array([1.0, 0.0, 0.0])
    rotation = np.stack([x, np.cross(z, x), z], axis=1)
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, rotation.reshape(-1))
    return quat


def place_marker_cube(
    model: mujoco.MjModel, data: mujoco.MjData, position: np.ndarray, camera: str | None = None
) -> None:
    """Put the cube's centre at `position` (world, m), its marker turned to `camera` when given; then forward."""
    mocap = int(model.body_mocapid[model.body(CUBE_BODY).id])
    data.mocap_pos[mocap] = position
    if camera is not None:
        mujoco.mj_forward(model, data)  # the camera's pose may depend on the robot's
        data.mocap_quat[mocap] = facing_quat(position, data.cam_xpos[model.camera(camera).id])
    mujoco.mj_forward(model, data)


def marker_center(model: mujoco.MjModel, data: mujoco.MjData) -> np.ndarray:
    """World position of the marker's centre (m), (3,)."""
    return data.geom_xpos[model.geom(MARKER_GEOM).id].copy()
