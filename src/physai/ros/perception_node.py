"""perception_node: the target's pose from the camera, on /target_pose (geometry_msgs/PoseStamped, base frame).

Subscribes /camera/image_raw (sensor_msgs/Image rgb8, bgr8 or mono8) and /camera/camera_info once they have a
publisher, with the reliability it offers (physai.ros.qos.subscribe_published: every frame of a reliable camera),
and finds the ArUco marker `marker_id` (physai.vision.detect_markers). It publishes the marker's centre, or the
point `target_depth_m` behind it (the centre of the object carrying it), in the robot's base frame (frame_id = the
robot's base body), stamped with the image's stamp: the median of the last `median_of` detections. The camera's
pose in the base frame is the `camera_pose` parameter (`physai launch` computes it from the MJCF), so the node runs
without MuJoCo.

A frame gives no target when camera_info is missing, the encoding or size is wrong, the marker is not seen, or the
pose is implausible (behind the camera or beyond `max_range_m`). Then nothing is published, and the reason is on
/diagnostics with detections per second, latency (image receipt → publish, and the image's age on the node clock)
and reprojection error.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

import numpy as np
from geometry_msgs.msg import PoseStamped
from rclpy.node import Node
from rclpy.qos import QoSProfile
from sensor_msgs.msg import CameraInfo, Image

from physai.record import diagnostics
from physai.robot import RobotSpec
from physai.robot.state import quat_to_matrix
from physai.ros import convert, qos
from physai.ros.images import image_array
from physai.ros.node_config import PerceptionNodeConfig
from physai.ros.node_main import run_node
from physai.ros.params import declare_and_read
from physai.vision import ImageError, Intrinsics, detect_markers, from_optical


class PerceptionNode(Node):
    """Publishes /target_pose from the camera; see the module docstring."""

    def __init__(self) -> None:
        super().__init__("perception_node")
        self.config = cfg = declare_and_read(self, PerceptionNodeConfig)
        spec = RobotSpec.load(cfg.robot)
        x, y, z, *quat = (float(v) for v in cfg.camera_pose.split())
        self.camera_pos, self.camera_rotation = np.array([x, y, z]), quat_to_matrix(np.array(quat))
        self.base_frame = spec.base_body
        self.intrinsics: Intrinsics | None = None
        self.info_error = ""
        self.reason = "waiting for /camera/image_raw"
        self.published = 0
        self.frames = 0
        self.window: list[float] = []  # monotonic times of recent detections (s)
        self.latency_ms: list[float] = []
        self.age_ms: list[float] = []
        self.reprojection_px = float("nan")
        self.median = cfg.median_target()
        self.pub = self.create_publisher(PoseStamped, "/target_pose", qos.RELIABLE)
        self.pub_diag = self.create_publisher(convert.DiagnosticArray, "/diagnostics", qos.RELIABLE)
        self.unseen: dict[str, Callable[[QoSProfile], object]] = {
            "/camera/camera_info": partial(self.create_subscription, CameraInfo, "/camera/camera_info", self.on_info),
            "/camera/image_raw": partial(self.create_subscription, Image, "/camera/image_raw", self.on_image),
        }
        self.graph_timer = self.create_timer(0.05, self.subscribe_published)
        self.create_timer(cfg.diagnostics_period_s, self.publish_diagnostics)
        self.get_logger().info(f"marker {cfg.marker_id} ({cfg.marker_size_m} m) → /target_pose in {self.base_frame}")

    def subscribe_published(self) -> None:
        """Subscribe each camera topic once it has a publisher, as offered (a reliable camera: every frame)."""
        qos.subscribe_published(self, self.unseen, depth=2)
        if not self.unseen:
            self.graph_timer.cancel()

    def on_info(self, msg: CameraInfo) -> None:
        """Keep the intrinsics; a K that is not a pinhole leaves them unset, with the reason."""
        try:
            self.intrinsics, self.info_error = Intrinsics.from_k(msg.width, msg.height, msg.k), ""
        except ValueError as err:
            self.intrinsics, self.info_error = None, str(err)

    def on_image(self, msg: Image) -> None:
        """Detect, check and publish the target, or record why not."""
        received = time.monotonic()
        self.frames += 1
        if self.intrinsics is None:
            self.reason = self.info_error or "no camera_info on /camera/camera_info"
            return
        try:
            found = detect_markers(image_array(msg), self.intrinsics, self.config.marker_size_m)
        except ImageError as err:
            self.reason = str(err)
            return
        target = next((m for m in found if m.id == self.config.marker_id), None)
        if target is None:
            self.reason = f"marker {self.config.marker_id} not seen"
            return
        distance = float(np.linalg.norm(target.position_m))
        if target.position_m[2] <= 0 or distance > self.config.max_range_m:
            self.reason = f"implausible pose: {distance:.2f} m away, z {target.position_m[2]:.2f} m"
            return
        behind = target.position_m * (1.0 + self.config.target_depth_m / distance)  # deeper along the line of sight
        position = self.median.add(  # a one-frame outlier is left out
            convert.stamp_to_ns(msg.header.stamp) / 1e9, from_optical(behind, self.camera_pos, self.camera_rotation)
        )
        out = PoseStamped()
        out.header.stamp, out.header.frame_id = msg.header.stamp, self.base_frame
        out.pose.position.x, out.pose.position.y, out.pose.position.z = (float(v) for v in position)
        out.pose.orientation.w = 1.0
        self.pub.publish(out)
        self.published += 1
        self.reason = ""
        self.reprojection_px = target.reprojection_error_px
        now = time.monotonic()
        self.window = [t for t in self.window if now - t < 1.0] + [now]
        self.latency_ms = [*self.latency_ms[-99:], 1000.0 * (now - received)]
        age = self.get_clock().now().nanoseconds - convert.stamp_to_ns(msg.header.stamp)
        self.age_ms = [*self.age_ms[-99:], age / 1e6]

    def publish_diagnostics(self) -> None:
        """Detections per second, latency, reprojection error and why no target is published."""
        now = time.monotonic()
        values = {
            "frames": self.frames,
            "targets_published": self.published,
            "detections_per_s": len([t for t in self.window if now - t < 1.0]),
            "latency_ms_p50": f"{np.median(self.latency_ms):.1f}" if self.latency_ms else "-",
            "image_age_ms_p50": f"{np.median(self.age_ms):.1f}" if self.age_ms else "-",
            "reprojection_px": f"{self.reprojection_px:.3f}",
            "no_target": self.reason or "no",
        }
        level = convert.WARN if self.reason else convert.OK
        status = convert.diagnostic_status(diagnostics.PERCEPTION, level, self.reason or "target", values)
        self.pub_diag.publish(convert.diagnostic_array(convert.stamp_from_ns(time.time_ns()), [status]))


def main(args: list[str] | None = None) -> None:
    """Console entry point `perception_node`."""
    run_node("perception_node", PerceptionNode, args)


if __name__ == "__main__":
    main()
