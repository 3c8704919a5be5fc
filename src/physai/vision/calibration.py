"""Camera calibration from checkerboard views, and the check of a published CameraInfo against it.

OpenCV's findChessboardCorners (sub-pixel refined) and calibrateCamera; `intrinsics_errors` compares the
recovered fx, fy, cx, cy with the intrinsics a node publishes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from physai.vision.camera import Intrinsics
from physai.vision.markers import to_gray


@dataclass(frozen=True)
class Calibration:
    """What calibrateCamera recovered from the views."""

    intrinsics: Intrinsics
    """Recovered fx, fy, cx, cy (pixels)."""
    distortion: np.ndarray
    """Recovered plumb-bob coefficients (k1, k2, p1, p2, k3)."""
    rms_px: float
    """RMS reprojection error over every corner of every view (pixels)."""
    views: int
    """Views in which the whole board was found."""


def board_points(inner: tuple[int, int], square_m: float) -> np.ndarray:
    """The board's inner corners in its own frame (m), (cols·rows, 3), row-major from the top-left, z = 0."""
    cols, rows = inner
    grid = np.mgrid[0:cols, 0:rows].T.reshape(-1, 2).astype(np.float64)
    return np.hstack([grid * square_m, np.zeros((len(grid), 1))])


def calibrate(images: Sequence[np.ndarray], inner: tuple[int, int], square_m: float) -> Calibration:
    """Calibrate from rgb8/mono8 views of a checkerboard with `inner` (cols, rows) inner corners of `square_m`.

    ValueError when fewer than 3 views show the whole board.
    """
    objects, corners, size = [], [], None
    flags = cv2.CALIB_CB_ADAPTIVE_THRESH | cv2.CALIB_CB_NORMALIZE_IMAGE
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 50, 1e-4)
    for image in images:
        gray = to_gray(image)
        size = gray.shape[::-1]
        found, points = cv2.findChessboardCorners(gray, inner, flags=flags)
        if not found:
            continue
        corners.append(cv2.cornerSubPix(gray, points, (5, 5), (-1, -1), criteria))
        objects.append(board_points(inner, square_m).astype(np.float32))
    if len(corners) < 3:
        raise ValueError(f"the checkerboard was found in {len(corners)} of {len(images)} views; expected at least 3")
    rms, k, dist, _, _ = cv2.calibrateCamera(objects, corners, size, None, None)
    return Calibration(Intrinsics.from_k(size[0], size[1], k.reshape(-1)), dist.reshape(-1), float(rms), len(corners))


def intrinsics_errors(recovered: Intrinsics, published: Intrinsics) -> dict[str, float]:
    """Relative difference of fx, fy, cx, cy: |recovered − published| / published."""
    return {
        name: abs(getattr(recovered, name) - getattr(published, name)) / abs(getattr(published, name))
        for name in ("fx", "fy", "cx", "cy")
    }
