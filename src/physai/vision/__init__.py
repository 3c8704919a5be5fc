"""Perception on numpy images, without ROS or MuJoCo: pinhole cameras, ArUco markers and their poses, drawing.

K = Intrinsics.from_fovy(640, 480, fovy_deg=50.0)
for marker in detect_markers(rgb, K, marker_size_m=0.06):
    marker.id, marker.position_m, marker.reprojection_error_px     # optical frame: z forward, x right, y down
"""

from physai.vision.camera import OPTICAL_FROM_MUJOCO, Intrinsics, from_optical, to_optical
from physai.vision.draw import draw_detections
from physai.vision.markers import (
    MARKER_DICTIONARY,
    MARKER_ID,
    MARKER_SIZE_M,
    ImageError,
    MarkerDetection,
    detect_markers,
    marker_image,
    to_gray,
)
from physai.vision.noise import ImageNoise
from physai.vision.target_filter import MedianTarget

__all__ = [
    "MARKER_DICTIONARY",
    "MARKER_ID",
    "MARKER_SIZE_M",
    "OPTICAL_FROM_MUJOCO",
    "ImageError",
    "ImageNoise",
    "Intrinsics",
    "MarkerDetection",
    "MedianTarget",
    "detect_markers",
    "draw_detections",
    "from_optical",
    "marker_image",
    "to_gray",
    "to_optical",
]
