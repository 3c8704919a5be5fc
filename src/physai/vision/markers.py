"""ArUco markers: detection (OpenCV's ArucoDetector) and pose (solvePnP, IPPE for squares) in the optical frame."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from physai.vision.camera import Intrinsics

MARKER_DICTIONARY = cv2.aruco.DICT_4X4_50
"""The marker family physai's scenes carry (the marker_cube scene's marker, drawn by physai.sim.marker)."""
MARKER_ID = 7
"""The target marker's id (the marker_cube scene, perception_node's default)."""
MARKER_SIZE_M = 0.06
"""Edge of the target marker's black square (m): 6 cells of 0.01 m on the cube's 0.08 m face."""


class ImageError(ValueError):
    """An image that cannot be looked at; the message says what it is and what was expected."""


@dataclass(frozen=True)
class MarkerDetection:
    """One marker seen in one image."""

    id: int
    """Marker id in MARKER_DICTIONARY."""
    corners_px: np.ndarray
    """Its 4 corners (u, v) in pixels, (4, 2), OpenCV's order (top-left, top-right, bottom-right, bottom-left)."""
    rotation: np.ndarray
    """Marker frame → optical frame rotation, (3, 3) (marker z out of its face)."""
    position_m: np.ndarray
    """Marker centre in the optical frame (m), (3,)."""
    reprojection_error_px: float
    """RMS distance between the detected corners and the projected corners of the pose (pixels)."""


def to_gray(image: np.ndarray) -> np.ndarray:
    """mono8 pixels of an rgb8 or mono8 image; ImageError for anything else (dtype or shape named)."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        kind = type(image).__name__ if not isinstance(image, np.ndarray) else f"an array of {image.dtype}"
        raise ImageError(f"image is {kind}; expected uint8 pixels (rgb8 or mono8)")
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    raise ImageError(f"image has shape {image.shape}; expected (height, width, 3) rgb8 or (height, width) mono8")


def detect_markers(image: np.ndarray, camera: Intrinsics, marker_size_m: float) -> list[MarkerDetection]:
    """Every marker of MARKER_DICTIONARY in an rgb8/mono8 image, with its pose; [] when none is seen.

    `marker_size_m`: edge of the marker's black square (m). ImageError for an image that is not uint8 rgb8 or
    mono8, or whose size differs from the camera's.
    """
    gray = to_gray(image)
    if gray.shape != (camera.height, camera.width):
        raise ImageError(f"image is {gray.shape[1]}×{gray.shape[0]}; the camera is {camera.width}×{camera.height}")
    params = cv2.aruco.DetectorParameters()
    params.cornerRefinementMethod = (
        cv2.aruco.CORNER_REFINE_SUBPIX
    )  # sub-pixel corners (geometry-drawn markers: 3.5 mm p50 at 1 m)
    detector = cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(MARKER_DICTIONARY), params)
    corners, ids, _ = detector.detectMarkers(gray)
    if ids is None:
        return []
    half = marker_size_m / 2.0
    square = np.array([[-half, half, 0.0], [half, half, 0.0], [half, -half, 0.0], [-half, -half, 0.0]])
    out = []
    for marker_id, quad in zip(ids.reshape(-1), corners, strict=True):
        quad = quad.reshape(4, 2).astype(np.float64)
        ok, rvec, tvec = cv2.solvePnP(square, quad, camera.k, None, flags=cv2.SOLVEPNP_IPPE_SQUARE)
        if not ok:
            continue
        projected, _ = cv2.projectPoints(square, rvec, tvec, camera.k, None)
        error = float(np.sqrt(np.mean(np.sum((projected.reshape(4, 2) - quad) ** 2, axis=1))))
        out.append(MarkerDetection(int(marker_id), quad, cv2.Rodrigues(rvec)[0], tvec.reshape(3), error))
    return out


def marker_image(marker_id: int, cells_px: int = 40) -> np.ndarray:
    """The printable marker with one white cell of quiet zone around it, mono8 ((6 + 2) × cells_px square)."""
    dictionary = cv2.aruco.getPredefinedDictionary(MARKER_DICTIONARY)
    marker = cv2.aruco.generateImageMarker(dictionary, marker_id, 6 * cells_px)
    return cv2.copyMakeBorder(marker, cells_px, cells_px, cells_px, cells_px, cv2.BORDER_CONSTANT, value=255)
