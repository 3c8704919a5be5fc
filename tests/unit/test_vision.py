"""physai.vision on synthetic images: a marker warped into a 640×480 frame from a known pose, and bad images."""

import cv2
import numpy as np
import pytest

from physai.vision import ImageError, Intrinsics, detect_markers, draw_detections, marker_image, to_optical

CAMERA = Intrinsics.from_fovy(640, 480, 50.0)
SIZE_M = 0.06


def synthetic_view(position_m, rotation_vec, supersample: int = 8) -> np.ndarray:
    """A white 640×480 rgb8 image with marker 7 (black square SIZE_M wide) at the given optical-frame pose.

    Each black cell is projected and filled at `supersample`× resolution, then area-averaged down: edges with
    the coverage anti-aliasing a renderer gives geometry, within 1/(2·supersample) px of the true edge.
    """
    cells = marker_image(7, cells_px=1)[1:-1, 1:-1] == 0  # 6×6, True = black
    cell, s = SIZE_M / 6, supersample
    big = np.full((480 * s, 640 * s), 255, np.uint8)
    for r, c in zip(*np.nonzero(cells), strict=True):
        x0, y0 = (c - 3) * cell, (3 - r) * cell
        square = np.array([[x0, y0, 0], [x0 + cell, y0, 0], [x0 + cell, y0 - cell, 0], [x0, y0 - cell, 0]], float)
        pts, _ = cv2.projectPoints(
            square, np.asarray(rotation_vec, float), np.asarray(position_m, float), CAMERA.k, None
        )
        fine = (pts.reshape(4, 2) + 0.5) * s - 0.5  # pixel centres of the fine grid
        cv2.fillPoly(big, [np.round(fine * 16).astype(np.int32)], 0, cv2.LINE_8, shift=4)
    gray = cv2.resize(big, (640, 480), interpolation=cv2.INTER_AREA)
    return np.repeat(gray[:, :, None], 3, axis=2)


def test_intrinsics_of_a_mujoco_camera():
    k = Intrinsics.from_fovy(640, 480, 50.0)
    assert k.fy == pytest.approx(240 / np.tan(np.radians(25))) and k.fx == k.fy
    assert (k.cx, k.cy) == (319.5, 239.5)
    assert Intrinsics.from_k(640, 480, k.k.reshape(-1)) == k
    with pytest.raises(ValueError, match="camera_info k"):
        Intrinsics.from_k(640, 480, [0.0] * 9)


def test_optical_frame_of_a_mujoco_camera():
    # a camera at the origin looking down world −z (MuJoCo's identity frame): a point below it is straight ahead
    assert to_optical([0.0, 0.0, -2.0], np.zeros(3), np.eye(3)).tolist() == [0.0, 0.0, 2.0]
    assert to_optical([0.0, 1.0, -2.0], np.zeros(3), np.eye(3)).tolist() == [0.0, -1.0, 2.0]  # up in the image is −y


@pytest.mark.parametrize(
    ("position", "rotation"),
    [((0.05, -0.02, 0.5), (np.pi, 0.0, 0.0)), ((-0.1, 0.05, 0.8), (2.9, -0.3, 0.4))],  # marker z toward the camera
)
def test_marker_pose_from_a_known_view(position, rotation):
    image = synthetic_view(position, rotation)
    (marker,) = detect_markers(image, CAMERA, SIZE_M)
    assert marker.id == 7 and marker.reprojection_error_px < 0.5
    np.testing.assert_allclose(marker.position_m, position, atol=0.01 * np.linalg.norm(position))  # 1 % of the range
    np.testing.assert_allclose(marker.rotation, cv2.Rodrigues(np.asarray(rotation, float))[0], atol=0.05)
    drawn = draw_detections(image, [marker], CAMERA)
    u, v = marker.corners_px[0].round().astype(int)
    assert tuple(drawn[v, u]) != tuple(image[v, u])  # the outline is drawn on the marker's corner


def test_no_marker_and_bad_images():
    assert detect_markers(np.zeros((480, 640, 3), np.uint8), CAMERA, SIZE_M) == []  # a black frame: nothing
    with pytest.raises(ImageError, match="float32"):
        detect_markers(np.zeros((480, 640, 3), np.float32), CAMERA, SIZE_M)
    with pytest.raises(ImageError, match=r"shape \(480, 640, 4\)"):
        detect_markers(np.zeros((480, 640, 4), np.uint8), CAMERA, SIZE_M)
    with pytest.raises(ImageError, match="320×240; the camera is 640×480"):
        detect_markers(np.zeros((240, 320, 3), np.uint8), CAMERA, SIZE_M)
