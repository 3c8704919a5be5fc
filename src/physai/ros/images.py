"""sensor_msgs/Image ↔ numpy, and JPEG CompressedImage (image_transport's "compressed" convention), with OpenCV.

Only the nodes that look at images import this (perception_node, recorder_node): `physai.ros.convert`, which
every node uses, stays free of OpenCV.
"""

from __future__ import annotations

import cv2
import numpy as np
from sensor_msgs.msg import CompressedImage, Image

from physai.vision import ImageError

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
