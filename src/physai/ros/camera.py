"""Camera topics of sim_node: /camera/image_raw and /camera/camera_info, rendered off the control thread.

A `CameraPublisher` owns one thread with its own GL context, MjData and mujoco.Renderer. It takes a snapshot
of the simulation (sim time and qpos, copied under the node's lock in microseconds), computes the kinematics
on its private MjData and renders there. Rendering releases the GIL. Two clocks:

* wall (realtime): the thread renders at `rate_hz` of wall time by itself, so the physics loop never waits
  for the GPU or llvmpipe; a frame is skipped rather than queued when rendering is slower, and images are
  published at least a period apart (a frame that follows a slow one waits its turn).
* sim (lockstep): a frame every 1/`rate_hz` of sim time. The node asks for it (`due`, then `render`, outside
  its lock) and the physics waits until it is published, so the images a run sees do not depend on how fast
  the host renders: the same run gives the same pictures at the same sim times.

Images are sensor_msgs/Image `rgb8`, row-major, stamped with the sim time of the snapshot; CameraInfo is the
pinhole model of the MuJoCo camera (fy = (h/2)/tan(fovy/2), fx = fy, principal point at the centre, no
distortion) in the REP-103 optical frame `<camera>_optical_frame` (z forward, x right, y down).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

import mujoco
import numpy as np
from rclpy.node import Node
from sensor_msgs.msg import CameraInfo, Image

from physai.ros import convert, qos
from physai.sim.render import tracking_camera
from physai.vision import ImageNoise, Intrinsics

MAX_RATE_HZ = 30.0
"""Upper bound of the camera rate (Hz): images are for people and perception, not for the control loop."""
TRACKING = "tracking"
"""Camera name meaning "a free camera following the robot's base" instead of an MJCF camera."""

Snapshot = Callable[[np.ndarray], float]
"""Copies the simulation's qpos into the array given and returns its sim time (s); called with the lock held."""


class CameraPublisher:
    """Renders and publishes one camera at a capped rate from its own thread; `close()` stops it."""

    def __init__(
        self,
        node: Node,
        model: mujoco.MjModel,
        camera: str,
        snapshot: Snapshot,
        *,
        base_body: str,
        rate_hz: float = 10.0,
        width: int = 320,
        height: int = 240,
        sim_clock: bool = False,
        noise: ImageNoise | None = None,
        seed: int = 0,
    ) -> None:
        """Validate the camera and start the thread; returns once the renderer is ready.

        Args:
            node: Node that owns the publishers.
            model: The simulation's model (read-only here).
            camera: MJCF camera name, or "tracking" for a camera following `base_body`.
            snapshot: See `Snapshot`.
            base_body: Body a tracking camera follows.
            rate_hz: Images per second, in (0, 30].
            width: Image width in pixels.
            height: Image height in pixels.
            sim_clock: Render on sim time when the node asks (lockstep), not on wall time by itself.
            noise: Lighting and camera noise put on every image (physai.vision.ImageNoise); None: none.
            seed: Seed of the noise's draws.

        Raises:
            ValueError: Unknown camera, rate or size out of range; the message names the parameter.
        """
        if not 0 < rate_hz <= MAX_RATE_HZ:
            raise ValueError(f"parameter 'camera_rate_hz' is {rate_hz}; expected 0 < rate ≤ {MAX_RATE_HZ:g} Hz")
        if not (16 <= width <= 4096 and 16 <= height <= 4096):
            raise ValueError(f"camera size {width}x{height}; expected 16–4096 pixels per side")
        names = [model.camera(i).name for i in range(model.ncam)]
        if camera != TRACKING and camera not in names:
            raise ValueError(
                f"parameter 'camera' is {camera!r}; expected {TRACKING!r} or a camera of the model {names}"
            )
        self.model, self.camera, self.snapshot = model, camera, snapshot
        self.period_s, self.width, self.height = 1.0 / rate_hz, width, height
        self.frame_id = f"{'camera' if camera == TRACKING else camera}_optical_frame"
        fovy = 45.0 if camera == TRACKING else float(model.cam_fovy[model.camera(camera).id])
        self.info = camera_info(width, height, fovy, self.frame_id)
        self.pub_image = node.create_publisher(Image, "/camera/image_raw", qos.CAMERA)
        self.pub_info = node.create_publisher(CameraInfo, "/camera/camera_info", qos.CAMERA)
        self.base_body = base_body
        self.published = 0
        self.error: str | None = None
        self.sim_clock = sim_clock
        self.noise, self.rng = noise or ImageNoise(), np.random.default_rng(seed)
        self._next_frame_s = 0.0  # sim clock: the sim time of the next frame (s)
        self._request = threading.Event()  # sim clock: render one frame now
        self._done = threading.Event()  # sim clock: that frame is published
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="camera", daemon=True)
        self._thread.start()
        self._ready.wait(timeout=30.0)
        if self.error:
            raise ValueError(f"camera {camera!r}: {self.error}")

    def _run(self) -> None:
        try:
            renderer = mujoco.Renderer(self.model, height=self.height, width=self.width)
        except Exception as err:  # no GL here: say so at start-up instead of dying in a thread
            self.error = f"no offscreen renderer ({err})"
            self._ready.set()
            return
        renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = False
        view = tracking_camera(self.model, self.base_body) if self.camera == TRACKING else self.camera
        data = mujoco.MjData(self.model)
        self._ready.set()
        next_s = time.monotonic()
        last_s = None
        published_s = -math.inf  # wall time of the last image (s)

        def frame() -> None:
            nonlocal last_s, published_s
            sim_time_s = self.snapshot(data.qpos)
            if sim_time_s == last_s:  # the sim has not moved (not started yet, paused): no new picture
                return
            last_s = sim_time_s
            mujoco.mj_forward(self.model, data)
            renderer.update_scene(data, camera=view)
            pixels = self.noise.apply(renderer.render(), self.rng)
            if not self.sim_clock and self._stop.wait(max(0.0, published_s + self.period_s - time.monotonic())):
                return  # closed while this frame waited its turn (never two images less than a period apart)
            self._publish(pixels, convert.stamp_from_ns(round(sim_time_s * 1e9)))
            published_s = time.monotonic()

        try:
            while not self._stop.is_set():
                if self.sim_clock:  # a frame when the node asks
                    if self._request.wait(0.1):
                        self._request.clear()
                        frame()
                        self._done.set()
                elif not self._stop.wait(max(0.0, next_s - time.monotonic())):  # close() ends the sleep early
                    next_s = max(next_s + self.period_s, time.monotonic())  # slower than the rate: skip, never queue
                    frame()
        finally:
            renderer.close()
            self._done.set()  # nobody waits on a closed camera

    def due(self, sim_time_s: float) -> bool:
        """Sim clock: whether the frame for `sim_time_s` (s) is due (then call `render`, without the lock)."""
        if not self.sim_clock or sim_time_s + 1e-9 < self._next_frame_s:
            return False
        self._next_frame_s = sim_time_s + self.period_s
        return True

    def render(self, timeout_s: float = 30.0) -> None:
        """Sim clock: render and publish a frame of the simulation now; returns once it is published."""
        self._done.clear()
        self._request.set()
        self._done.wait(timeout_s)

    def _publish(self, frame: np.ndarray, stamp: object) -> None:
        image = Image(height=self.height, width=self.width, encoding="rgb8", is_bigendian=0, step=3 * self.width)
        image.header.stamp, image.header.frame_id = stamp, self.frame_id
        image.data = frame.tobytes()
        self.info.header.stamp = stamp
        self.pub_image.publish(image)
        self.pub_info.publish(self.info)
        self.published += 1

    def close(self) -> None:
        """Stop the thread (it finishes the frame it is rendering)."""
        self._stop.set()
        self._thread.join(timeout=5.0)


def camera_info(width: int, height: int, fovy_deg: float, frame_id: str) -> CameraInfo:
    """The pinhole CameraInfo of a MuJoCo camera (physai.vision.Intrinsics.from_fovy), no distortion."""
    k = Intrinsics.from_fovy(width, height, fovy_deg)
    info = CameraInfo(width=width, height=height, distortion_model="plumb_bob")
    info.header.frame_id = frame_id
    info.d = [0.0] * 5
    info.k = [float(v) for v in k.k.reshape(-1)]
    info.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    info.p = [k.fx, 0.0, k.cx, 0.0, 0.0, k.fy, k.cy, 0.0, 0.0, 0.0, 1.0, 0.0]
    return info
