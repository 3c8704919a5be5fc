"""sensor_msgs/Image ↔ numpy, and JPEG CompressedImage (image_transport's "compressed" convention), with OpenCV.

Only the nodes that look at images import this (perception_node, recorder_node): `physai.ros.convert`, which
every node uses, stays free of OpenCV.
"""

from __future__ import annotations

import cv2
import numpy as np
from sensor_msgs.msg import CompressedImage, Image

from physai.vision import MARKER_SIZE_M, ImageError

ENCODINGS = {"rgb8": 3, "bgr8": 3, "mono8": 1}
"""Image encodings physai reads, with their channels."""


def image_array(msg: Image) -> np.ndarray:
    """The pixels of a sensor_msgs/Image as an rgb8 or mono8 array; ImageError naming what is wrong."""
    channels = ENCODINGS.get(msg.encoding)
    if channels is None:
        raise ImageError(f"encoding {msg.encoding!r} is not supported; expected one of {', '.join(ENCODINGS)}")
    expected = msg.height * msg.width * channels
    if msg.step != msg.width * channels or len(msg.data) != expected:
        raise ImageError(
            f"image {msg.width}×{msg.height} {msg.encoding} has step {msg.step} and {len(msg.data)} bytes; "
            f"expected step {msg.width * channels} and {expected} bytes"
        )
    pixels = np.frombuffer(bytes(msg.data), dtype=np.uint8)
    if channels == 1:
        return pixels.reshape(msg.height, msg.width)
    pixels = pixels.reshape(msg.height, msg.width, 3)
    return pixels[..., ::-1] if msg.encoding == "bgr8" else pixels


def compressed_image_msg(msg: Image, quality: int = 90) -> CompressedImage:
    """sensor_msgs/CompressedImage of an Image: JPEG (cv2.imencode), same header.

    `format` as image_transport's compressed plugin writes it ("rgb8; jpeg compressed bgr8"). ImageError for
    an encoding it cannot read.
    """
    pixels = image_array(msg)
    bgr = pixels if pixels.ndim == 2 else pixels[..., ::-1]
    ok, jpeg = cv2.imencode(".jpg", np.ascontiguousarray(bgr), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ImageError(f"JPEG encoding of a {msg.width}×{msg.height} {msg.encoding} image failed")
    out = CompressedImage()
    out.header = msg.header
    out.format = f"{msg.encoding}; jpeg compressed {'mono8' if pixels.ndim == 2 else 'bgr8'}"
    out.data = jpeg.tobytes()
    return out


def decoded_frame(msg: Image | CompressedImage) -> np.ndarray:
    """rgb8 (or mono8) pixels of a raw or JPEG-compressed image message."""
    if hasattr(msg, "encoding"):  # sensor_msgs/Image (a CompressedImage has a format instead)
        return image_array(msg)
    frame = cv2.imdecode(np.frombuffer(bytes(msg.data), np.uint8), cv2.IMREAD_UNCHANGED)
    if frame is None:
        raise ImageError(f"compressed image ({msg.format!r}) does not decode")
    return frame if frame.ndim == 2 else frame[..., ::-1]


def bag_camera_video(bag: str, out: str, *, overlay: bool = False, marker_size_m: float = MARKER_SIZE_M) -> int:
    """Write the recorded camera images of `bag` (raw or compressed) to an MP4 at their recorded rate.

    `overlay` draws the ArUco detections (outline, id, axes) with the recorded camera_info's intrinsics.
    Returns the number of frames; ValueError when the bag has no camera images, or no camera_info to overlay.
    """
    import imageio

    from physai.record import read_bag
    from physai.vision import Intrinsics, detect_markers, draw_detections

    topics = ["/camera/camera_info", "/camera/image_raw", "/camera/image_raw/compressed"]
    intrinsics, frames, stamps = None, [], []
    for item in read_bag(bag, topics=topics):
        msg = item.message
        if item.topic == "/camera/camera_info":
            intrinsics = Intrinsics.from_k(msg.width, msg.height, msg.k)
            continue
        frame = decoded_frame(msg)
        frames.append(np.repeat(frame[:, :, None], 3, axis=2) if frame.ndim == 2 else frame)
        stamps.append(msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9)
    if not frames:
        raise ValueError(f"{bag} holds no /camera/image_raw or /camera/image_raw/compressed messages")
    if overlay and intrinsics is None:
        raise ValueError(f"{bag} holds no /camera/camera_info: the detections need the camera's intrinsics to draw")
    period = float(np.median(np.diff(stamps))) if len(stamps) > 1 else 0.1
    fps = max(1, round(1.0 / period)) if period > 0 else 10
    with imageio.get_writer(out, fps=fps, codec="libx264", quality=7, macro_block_size=8) as writer:
        for frame in frames:
            if overlay:
                frame = draw_detections(frame, detect_markers(frame, intrinsics, marker_size_m), intrinsics)
            writer.append_data(np.ascontiguousarray(frame))
    return len(frames)
