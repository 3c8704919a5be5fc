"""Pinhole camera geometry: intrinsics (from a MuJoCo fovy or a CameraInfo K) and the optical frame.

The optical frame is REP-103's for cameras: z forward (the viewing direction), x right, y down in the image.
A MuJoCo camera frame looks along −z with y up, so optical = diag(1, −1, −1) · mujoco camera. Pixel
coordinates follow OpenCV: the centre of pixel (u, v) is at (u, v), so the principal point of a centred
camera of width w is (w − 1)/2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

OPTICAL_FROM_MUJOCO = np.diag([1.0, -1.0, -1.0])
"""Rotation taking MuJoCo camera-frame vectors (x right, y up, z backward) into the optical frame."""


@dataclass(frozen=True)
class Intrinsics:
    """A distortion-free pinhole camera; focal lengths and principal point in pixels."""

    width: int
    """Image width (pixels)."""
    height: int
    """Image height (pixels)."""
    fx: float
    fy: float
    cx: float
    cy: float

    @classmethod
    def from_fovy(cls, width: int, height: int, fovy_deg: float) -> Intrinsics:
        """The pinhole of a MuJoCo camera: fy = (h/2)/tan(fovy/2), fx = fy (square pixels), centred."""
        if not (width > 0 and height > 0 and 0.0 < fovy_deg < 180.0):
            raise ValueError(f"camera {width}×{height}, fovy {fovy_deg}°; expected a positive size and 0 < fovy < 180")
        fy = 0.5 * height / math.tan(math.radians(fovy_deg) / 2.0)
        return cls(width, height, fy, fy, (width - 1) / 2.0, (height - 1) / 2.0)

    @classmethod
    def from_k(cls, width: int, height: int, k: Sequence[float]) -> Intrinsics:
        """From a row-major 3×3 K (sensor_msgs/CameraInfo.k); ValueError naming a K that is not a pinhole."""
        values = np.asarray(k, dtype=np.float64).reshape(-1)
        if values.shape != (9,) or not np.isfinite(values).all() or values[0] <= 0 or values[4] <= 0:
            raise ValueError(f"camera_info k is {values.tolist()}; expected 9 finite values with fx, fy > 0")
        return cls(int(width), int(height), float(values[0]), float(values[4]), float(values[2]), float(values[5]))

    @property
    def k(self) -> np.ndarray:
        """The 3×3 camera matrix."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    def project(self, points_optical: np.ndarray) -> np.ndarray:
        """Pixel coordinates (u, v) of points in the optical frame, (..., 3) → (..., 2)."""
        p = np.asarray(points_optical, dtype=np.float64)
        return np.stack([self.fx * p[..., 0] / p[..., 2] + self.cx, self.fy * p[..., 1] / p[..., 2] + self.cy], -1)


def to_optical(point_world: np.ndarray, camera_pos: np.ndarray, camera_xmat: np.ndarray) -> np.ndarray:
    """A world point (m) in a MuJoCo camera's optical frame, given the camera's world position and 3×3 frame."""
    rotation = np.asarray(camera_xmat, dtype=np.float64).reshape(3, 3)
    return OPTICAL_FROM_MUJOCO @ rotation.T @ (np.asarray(point_world, np.float64) - np.asarray(camera_pos, np.float64))


def from_optical(point_optical: np.ndarray, camera_pos: np.ndarray, camera_xmat: np.ndarray) -> np.ndarray:
    """The inverse of `to_optical`: an optical-frame point (m) in the frame the camera pose is given in."""
    rotation = np.asarray(camera_xmat, dtype=np.float64).reshape(3, 3)
    return rotation @ OPTICAL_FROM_MUJOCO.T @ np.asarray(point_optical, np.float64) + np.asarray(camera_pos, np.float64)
