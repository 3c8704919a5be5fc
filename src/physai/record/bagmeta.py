"""rosbag2 metadata: the `metadata.yaml` of a bag directory and the per-topic QoS string.

Layout: rosbag2 Jazzy, metadata version 8 (`ros_distro` present; `offered_qos_profiles` is a YAML
*string* holding a list of profiles with integer enums, as rosbag2_storage writes for version < 9).
rosbag2 readers, rosbags (`rosbags.rosbag2.Reader`) and `ros2 bag info` accept it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

METADATA_VERSION = 8
"""rosbag2 Jazzy's BagMetadata version."""
NO_MESSAGES_START_NS = 2**63 - 1
"""`starting_time` rosbag2 writes for a bag without messages (time_point::max)."""

# rmw enum values (rmw/types.h), as rosbag2 writes them in version-8 QoS strings.
HISTORY = {"system_default": 0, "keep_last": 1, "keep_all": 2, "unknown": 3}
RELIABILITY = {"system_default": 0, "reliable": 1, "best_effort": 2, "unknown": 3, "best_available": 4}
DURABILITY = {"system_default": 0, "transient_local": 1, "volatile": 2, "unknown": 3, "best_available": 4}
LIVELINESS = {"system_default": 0, "automatic": 1, "manual_by_topic": 3, "unknown": 4, "best_available": 5}


@dataclass(frozen=True)
class QosProfile:
    """One offered QoS profile of a publisher, in rmw terms (enums as ints, durations in ns).

    The rclpy side fills it from `node.get_publishers_info_by_topic(topic)[i].qos_profile`
    (`int(q.history)`, `q.depth`, ..., `q.deadline.nanoseconds`).
    """

    history: int = HISTORY["keep_last"]
    """rmw history policy: 0 system default, 1 keep last, 2 keep all, 3 unknown."""
    depth: int = 10
    """History depth (messages)."""
    reliability: int = RELIABILITY["reliable"]
    """0 system default, 1 reliable, 2 best effort, 3 unknown, 4 best available."""
    durability: int = DURABILITY["volatile"]
    """0 system default, 1 transient local, 2 volatile, 3 unknown, 4 best available."""
    deadline_ns: int = 0
    """Deadline (ns); 0 = unspecified, 2**63-1 = infinite."""
    lifespan_ns: int = 0
    """Lifespan (ns); 0 = unspecified, 2**63-1 = infinite."""
    liveliness: int = LIVELINESS["automatic"]
    """0 system default, 1 automatic, 3 manual by topic, 4 unknown, 5 best available."""
    liveliness_lease_duration_ns: int = 0
    """Liveliness lease duration (ns); 0 = unspecified."""
    avoid_ros_namespace_conventions: bool = False
    """rmw's avoid_ros_namespace_conventions flag."""

    def to_dict(self) -> dict[str, Any]:
        """The profile as rosbag2 version-8 YAML maps it (durations split into sec/nsec)."""

        def split(ns: int) -> dict[str, int]:
            sec, nsec = divmod(int(ns), 1_000_000_000)
            return {"sec": sec, "nsec": nsec}

        return {
            "history": int(self.history),
            "depth": int(self.depth),
            "reliability": int(self.reliability),
            "durability": int(self.durability),
            "deadline": split(self.deadline_ns),
            "lifespan": split(self.lifespan_ns),
            "liveliness": int(self.liveliness),
            "liveliness_lease_duration": split(self.liveliness_lease_duration_ns),
            "avoid_ros_namespace_conventions": bool(self.avoid_ros_namespace_conventions),
        }


def offered_qos_yaml(profiles: Sequence[QosProfile]) -> str:
    """The `offered_qos_profiles` string of one topic ("" for none), as rosbag2 Jazzy writes it."""
    if not profiles:
        return ""
    return yaml.safe_dump([p.to_dict() for p in profiles], sort_keys=False, default_flow_style=False).rstrip("\n")


@dataclass(frozen=True)
class TopicRecord:
    """One recorded topic as metadata.yaml lists it."""

    name: str
    """Topic name, e.g. "/joint_states"."""
    type: str
    """ROS 2 type name, e.g. "sensor_msgs/msg/JointState"."""
    offered_qos_profiles: str
    """YAML string of the publishers' QoS profiles (see `offered_qos_yaml`), may be ""."""
    type_description_hash: str
    """RIHS01 hash of the type, or ""."""
    message_count: int
    """Messages recorded on the topic."""
    serialization_format: str = "cdr"
    """Always "cdr"."""


def bag_metadata(
    relative_file: str, topics: Sequence[TopicRecord], start_ns: int | None, end_ns: int | None
) -> dict[str, Any]:
    """The metadata.yaml mapping of a single-file MCAP bag.

    Args:
        relative_file: the MCAP file name inside the bag directory ("NAME_0.mcap").
        topics: recorded topics with their counts, in channel order.
        start_ns: earliest message log time (ns since epoch), None if there are no messages.
        end_ns: latest message log time (ns since epoch), None if there are no messages.
    """
    count = sum(t.message_count for t in topics)
    if count and start_ns is not None and end_ns is not None:
        start, duration = int(start_ns), int(end_ns) - int(start_ns)
    else:
        start, duration = NO_MESSAGES_START_NS, 0
    info = {
        "version": METADATA_VERSION,
        "storage_identifier": "mcap",
        "duration": {"nanoseconds": duration},
        "starting_time": {"nanoseconds_since_epoch": start},
        "message_count": count,
        "topics_with_message_count": [
            {
                "topic_metadata": {
                    "name": t.name,
                    "type": t.type,
                    "serialization_format": t.serialization_format,
                    "offered_qos_profiles": t.offered_qos_profiles,
                    "type_description_hash": t.type_description_hash,
                },
                "message_count": t.message_count,
            }
            for t in topics
        ],
        "compression_format": "",
        "compression_mode": "",
        "relative_file_paths": [relative_file],
        "files": [
            {
                "path": relative_file,
                "starting_time": {"nanoseconds_since_epoch": start},
                "duration": {"nanoseconds": duration},
                "message_count": count,
            }
        ],
        "custom_data": None,
        "ros_distro": os.environ.get("ROS_DISTRO") or "jazzy",
    }
    return {"rosbag2_bagfile_information": info}


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (QoS profiles) double-quoted on one line, like yaml-cpp writes them."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = '"' if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def dump_metadata(metadata: dict[str, Any]) -> str:
    """metadata.yaml text for a `bag_metadata` mapping."""
    return yaml.dump(metadata, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=2**31 - 1)


def write_metadata(bag_dir: Path, metadata: dict[str, Any]) -> Path:
    """Write `bag_dir/metadata.yaml` atomically (temp file, fsync, rename) and return its path."""
    path = bag_dir / "metadata.yaml"
    tmp = bag_dir / ".metadata.yaml.tmp"
    with tmp.open("w", encoding="utf-8") as f:
        f.write(dump_metadata(metadata))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path
