"""Offscreen rendering to MP4 (MUJOCO_GL=egl, osmesa fallback; see physai.gl).

with VideoRecorder(sim.model, "out.mp4", fps=30, track_body=sim.spec.base_body) as video:
    for _ in range(150):
        sim.step(17)
        video.capture(sim.data)
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import imageio.v2 as imageio
import mujoco
import numpy as np

from physai.robot.spec import RobotSpec


def tracking_camera(model: mujoco.MjModel, body: str) -> mujoco.MjvCamera:
    """A free camera that follows `body` from the front-left, slightly above."""
    cam = mujoco.MjvCamera()
    cam.type = mujoco.mjtCamera.mjCAMERA_TRACKING
    cam.trackbodyid = model.body(body).id
    cam.distance, cam.azimuth, cam.elevation = 2.8, 135.0, -15.0
    return cam


def frame_camera(model: mujoco.MjModel, spec: RobotSpec) -> mujoco.MjvCamera | str:
    """The robot's own camera for fixed-base robots that have one, else a camera tracking the base."""
    if not spec.floating_base and spec.camera is not None:
        return spec.camera
    return tracking_camera(model, spec.base_body)


def overlay_text(frame: np.ndarray, text: str) -> np.ndarray:
    """A copy of an RGB frame with `text` (lines) in white on a dark box at the top left."""
    from PIL import Image, ImageDraw

    image = Image.fromarray(frame)
    draw = ImageDraw.Draw(image)
    box = draw.multiline_textbbox((8, 6), text)
    draw.rectangle((box[0] - 4, box[1] - 3, box[2] + 4, box[3] + 3), fill=(0, 0, 0))
    draw.multiline_text((8, 6), text, fill=(255, 255, 255))
    return np.asarray(image)


class VideoRecorder:
    """Render frames of a model from a tracking camera (or a named MJCF camera) into an H.264 MP4.

    Shadows and reflections are off by default: on a software GL (llvmpipe) they cost ~5x per frame.
    """

    def __init__(
        self,
        model: mujoco.MjModel,
        path: str | Path,
        fps: int = 30,
        width: int = 640,
        height: int = 480,
        camera: str | mujoco.MjvCamera | None = None,
        track_body: str | None = None,
        shadows: bool = False,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fps = fps
        self.frames = 0
        self._renderer = mujoco.Renderer(model, height=height, width=width)
        self._renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = shadows
        self._renderer.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = shadows
        self._camera: mujoco.MjvCamera | str | int = -1
        if camera is not None:
            self._camera = camera
        elif track_body is not None:
            self._camera = tracking_camera(model, track_body)
        self._writer = imageio.get_writer(self.path, fps=fps, codec="libx264", quality=7, macro_block_size=8)

    def capture(self, data: mujoco.MjData, text: str | None = None) -> np.ndarray:
        """Render `data` (with `text` lines top left) and append it; return the RGB frame, (height, width, 3) uint8."""
        self._renderer.update_scene(data, camera=self._camera)
        frame = self._renderer.render()
        if text:
            frame = overlay_text(frame, text)
        self._writer.append_data(frame)
        self.frames += 1
        return frame

    def close(self) -> None:
        """Finish the MP4 file and free the GL context."""
        self._writer.close()
        self._renderer.close()

    def __enter__(self) -> VideoRecorder:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()
