"""The checkerboard of the `checkerboard` scene, and rendered views of it for `physai vision calibrate`.

The board is a mocap body (`scene/checkerboard`): a white plate with black boxes (`board_box_geoms` wrote them
into sim_envs/scenes/checkerboard.xml, sharp edges as the marker cube's). BOARD_INNER inner corners, squares
SQUARE_M wide, on the body's +z face; its x along the columns, y down the rows.
"""

from __future__ import annotations

import mujoco
import numpy as np

from physai.robot.spec import RobotSpec
from physai.sim.cameras import camera_id
from physai.sim.marker import facing_quat
from physai.sim.mjcf import build_model

BOARD_INNER = (7, 5)
"""Inner corners (columns, rows): 8 × 6 squares."""
SQUARE_M = 0.03
"""Edge of one square (m)."""
BOARD_BODY = "scene/checkerboard"


def board_box_geoms(
    inner: tuple[int, int] = BOARD_INNER, square_m: float = SQUARE_M, face_m: float = 0.002
) -> list[str]:
    """MJCF <geom> lines of the black squares on a body's +z face, centred on the body, top-left square black."""
    cols, rows = inner[0] + 1, inner[1] + 1
    lines = []
    for r in range(rows):
        for c in range(cols):
            if (r + c) % 2:
                continue
            x, y = (c - (cols - 1) / 2) * square_m, ((rows - 1) / 2 - r) * square_m
            lines.append(
                f'<geom type="box" size="{square_m / 2:.4f} {square_m / 2:.4f} 0.0005" '
                f'pos="{x:.4f} {y:.4f} {face_m + 0.0005:.4f}" material="ink" contype="0" conaffinity="0"/>'
            )
    return lines


def render_board_views(
    spec: RobotSpec, camera: str, width: int, height: int, views: int, seed: int = 0
) -> list[np.ndarray]:
    """`views` rgb8 images of the board at random poses in front of `camera`.

    Each view: 0.45–0.9 m away, spread over the image, tilted up to ~30° from facing the camera.
    """
    model = build_model(spec, "checkerboard")
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    cam = camera_id(model, camera)
    mocap = int(model.body_mocapid[model.body(BOARD_BODY).id])
    rng = np.random.default_rng(seed)
    renderer = mujoco.Renderer(model, height, width)
    images = []
    try:
        for _ in range(views):
            depth = rng.uniform(0.45, 0.9)
            offset = np.array([rng.uniform(-0.25, 0.25) * depth, rng.uniform(-0.18, 0.18) * depth, -depth])
            rotation = data.cam_xmat[cam].reshape(3, 3)
            position = data.cam_xpos[cam] + rotation @ offset
            tilt = rng.uniform(-0.6, 0.6, size=2)
            look = data.cam_xpos[cam] + rotation @ np.array([tilt[0], tilt[1], 0.0]) * depth
            data.mocap_pos[mocap] = position
            data.mocap_quat[mocap] = facing_quat(position, look)
            mujoco.mj_forward(model, data)
            renderer.update_scene(data, camera=camera)
            images.append(renderer.render().copy())
    finally:
        renderer.close()
    return images
