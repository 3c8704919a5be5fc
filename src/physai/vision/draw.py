"""Drawing detections onto images (for videos and debugging): marker outline, id and pose axes."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from physai.vision.camera import Intrinsics
from physai.vision.markers import MarkerDetection


def draw_detections(
    image: np.ndarray, detections: Sequence[MarkerDetection], camera: Intrinsics, axis_m: float = 0.04
) -> np.ndarray:
    """A copy of an rgb8 image with each marker's outline (green), id and axes (x red, y green, z blue)."""
    out = np.ascontiguousarray(image.copy())
    for marker in detections:
        quad = marker.corners_px.round().astype(np.int32)
        cv2.polylines(out, [quad], True, (0, 255, 0), 2)
        cv2.putText(
            out,
            f"id {marker.id}",
            tuple(int(v) for v in quad[0] - [0, 6]),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.5,
            (0, 255, 0),
            1,
        )
        rvec, _ = cv2.Rodrigues(marker.rotation)
        cv2.drawFrameAxes(out, camera.k, None, rvec, marker.position_m.reshape(3, 1), axis_m, 2)
    return out
