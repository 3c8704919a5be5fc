"""The marker cube of the `marker_cube` scene: place it, turn its marker face to a camera, read its true pose.

The cube is a mocap body (`scene/target_cube`), so placing it is writing mocap_pos / mocap_quat; its marker
(ArUco id 7 of DICT_4X4_50, black square MARKER_SIZE_M wide, centre at the site `scene/target_marker`) is on
its +z face, drawn with black boxes (`marker_box_geoms` wrote them into sim_envs/scenes/marker_cube.xml).
"""

from __future__ import annotations

import mujoco
import numpy as np

from physai.vision.markers import MARKER_ID, MARKER_SIZE_M

CUBE_HALF_M = 0.04
"""Half the cube's edge (m)."""
CUBE_BODY = "scene/target_cube"
MARKER_SITE = "scene/target_marker"


def marker_box_geoms(
    marker_id: int = MARKER_ID, size_m: float = MARKER_SIZE_M, face_m: float = CUBE_HALF_M
) -> list[str]:
    """MJCF <geom> lines drawing the marker on a body's +z face at height `face_m` (m).

    One black box per run of black cells in a row; 6×6 cells (the 4×4 bits and their black border), the
    marker's y up being the image's row 0.
    """
    from physai.vision.markers import marker_image

    black = marker_image(marker_id, cells_px=1)[1:-1, 1:-1] == 0
    cell, lines = size_m / 6, []
    for r in range(6):
        c = 0
        while c < 6:
            if not black[r, c]:
                c += 1
                continue
            start = c
            while c < 6 and black[r, c]:
                c += 1
            x, y = ((start + c) / 2 - 3) * cell, (2.5 - r) * cell
            lines.append(
                f'<geom type="box" size="{(c - start) * cell / 2:.4f} {cell / 2:.4f} 0.0005" '
                f'pos="{x:.4f} {y:.4f} {face_m + 0.0005:.4f}" material="ink" contype="0" conaffinity="0"/>'
            )
    return lines


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


def fix_marker_cube(model: mujoco.MjModel, data: mujoco.MjData, position: np.ndarray, camera: str | None) -> None:
    """Put the cube at `position` (world, m) in the model itself (its mocap body's rest pose), facing `camera`.

    Every MjData made from the model afterwards (a renderer's private copy included) and every reset then has
    the cube there; `data` is reset to it.
    """
    place_marker_cube(model, data, position, camera)
    body, mocap = model.body(CUBE_BODY).id, int(model.body_mocapid[model.body(CUBE_BODY).id])
    model.body_pos[body], model.body_quat[body] = data.mocap_pos[mocap], data.mocap_quat[mocap]


def marker_center(model: mujoco.MjModel, data: mujoco.MjData) -> np.ndarray:
    """World position of the marker's centre (m), (3,)."""
    return data.site_xpos[model.site(MARKER_SITE).id].copy()
