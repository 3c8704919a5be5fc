"""ROS 2 message definitions for MCAP schemas, found without rclpy.

rosbag2 (Jazzy) stores, per message type, the *complete* `.msg` text in `ros2msg` encoding: the root
type's `.msg` file verbatim, then every dependency (recursively, each once) preceded by a line of 80 `=`
and a line `MSG: pkg/Type` (rosbag2_cpp `LocalMessageDefinitionSource::get_full_text`). The `.msg` files
come from the installed message packages' share folders (`<prefix>/share/<pkg>/msg/<Type>.msg`; the
`ros-jazzy-*-msgs` wheels put them under the venv's `share/`, a sourced ROS 2 under $AMENT_PREFIX_PATH).
The RIHS01 type hash is read from the `<Type>.json` type description that Jazzy packages ship beside it.

This module reproduces that algorithm byte for byte: the same field-type regex, dependencies visited in
sorted order (rosbag2 keeps them in a `std::set`), a dependency's bare type names resolved in its own
package, the same delimiter. Only when a type's `.msg` (or one of its dependencies) is not installed does
it fall back to rosbags' bundled ROS 2 Jazzy type store, which regenerates the definition without
comments (same fields, so every decoder reads it; `MessageDefinition.source` says which was used).
"""

from __future__ import annotations

import json
import os
import re
import site
import sys
import sysconfig
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DELIMITER = "=" * 80 + "\n"
"""The line rosbag2 writes before each dependent definition (followed by `MSG: pkg/Type`)."""

# rosbag2_cpp local_message_definition_source.cpp, MSG_FIELD_TYPE_REGEX and PRIMITIVE_TYPES.
_FIELD_TYPE_RE = re.compile(r"(?:^|\n)\s*([a-zA-Z0-9_/]+)(?:\[[^\]]*\])?\s+")
_PRIMITIVES = frozenset(
    {
        "bool",
        "byte",
        "char",
        "float32",
        "float64",
        "int8",
        "uint8",
        "int16",
        "uint16",
        "int32",
        "uint32",
        "int64",
        "uint64",
        "string",
        "wstring",  # not in rosbag2's list (it would look for pkg/wstring); a primitive all the same
    }
)
_NAME = r"[A-Za-z][A-Za-z0-9_]*"
_TYPE_RE = re.compile(rf"^({_NAME})/(?:(msg)/)?({_NAME})$")
_MAX_DEPTH = 50  # ROSBAG2_CPP_LOCAL_MESSAGE_DEFINITION_SOURCE_MAX_RECURSION_DEPTH


class UnknownMessageTypeError(LookupError):
    """A message type whose definition cannot be found; the message names the type and where it looked."""


@dataclass(frozen=True)
class MessageDefinition:
    """The complete definition of one message type, as stored in an MCAP schema record."""

    type_name: str
    """Canonical ROS 2 type name, e.g. "sensor_msgs/msg/JointState" (the MCAP schema name)."""
    encoding: str
    """MCAP schema encoding; always "ros2msg"."""
    text: str
    """The complete definition: root `.msg`, then each dependency after a `====`/`MSG: pkg/Type` header."""
    type_hash: str
    """RIHS01 type description hash ("RIHS01_<64 hex>"), or "" when no type description is installed."""
    source: str
    """Where the text came from: the root `.msg` path, or "rosbags:ros2_jazzy" for the fallback."""


def normalize_type_name(type_name: str) -> str:
    """Return the canonical "pkg/msg/Type" form of "pkg/msg/Type" or "pkg/Type".

    Raises:
        ValueError: `type_name` is not a ROS 2 message type name (services/actions are not messages).
    """
    match = _TYPE_RE.match(type_name) if isinstance(type_name, str) else None
    if match is None:
        raise ValueError(
            f"message type {type_name!r} is not a ROS 2 message type name; expected 'pkg/msg/Type' "
            "(e.g. 'sensor_msgs/msg/JointState')"
        )
    return f"{match.group(1)}/msg/{match.group(3)}"


def share_dirs(extra: Iterable[str | os.PathLike[str]] = ()) -> tuple[Path, ...]:
    """Folders that may hold `<pkg>/msg/<Type>.msg`, in search order.

    `extra` first, then `<prefix>/share` for every $AMENT_PREFIX_PATH entry (a sourced ROS 2 or colcon
    workspace), then this interpreter's data prefix (the venv holding the ros-jazzy wheels) and the
    user base. Only existing folders are returned, without duplicates.
    """
    candidates = [Path(p) for p in extra]
    candidates += [Path(p) / "share" for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
    candidates += [Path(sysconfig.get_path("data")) / "share", Path(sys.prefix) / "share"]
    if site.USER_BASE:
        candidates.append(Path(site.USER_BASE) / "share")
    seen: list[Path] = []
    for path in candidates:
        if path.is_dir() and path not in seen:
            seen.append(path)
    return tuple(seen)


def resolve_definition(
    type_name: str, *, search_paths: Sequence[str | os.PathLike[str]] = (), fallback: bool = True
) -> MessageDefinition:
    """Return the complete `ros2msg` definition of a message type, as rosbag2 would store it.

    Args:
        type_name: "pkg/msg/Type" (or "pkg/Type").
        search_paths: extra share folders searched before the defaults (see `share_dirs`).
        fallback: use rosbags' ROS 2 Jazzy type store when the `.msg` files are not installed.

    Raises:
        ValueError: `type_name` is not a message type name.
        UnknownMessageTypeError: neither the installed packages nor the fallback know the type.
    """
    return _resolve(normalize_type_name(type_name), share_dirs(search_paths), fallback)


@cache
def _resolve(type_name: str, dirs: tuple[Path, ...], fallback: bool) -> MessageDefinition:
    try:
        text, root = _full_text(type_name, dirs)
    except _NotFoundError as err:
        if fallback and (found := _from_rosbags(type_name)) is not None:
            return found
        searched = ", ".join(str(d) for d in dirs) or "(no share folders found)"
        missing = "" if err.type_name == type_name else f" (its dependency {err.type_name} is missing)"
        raise UnknownMessageTypeError(
            f"unknown ROS 2 message type {type_name!r}{missing}: no {err.relpath} under {searched}"
            + (" and not in rosbags' ros2_jazzy type store" if fallback else "")
            + "; install or source the package that defines it"
        ) from None
    type_hash = _type_hash(root.with_suffix(".json"), type_name)
    if not type_hash and fallback:
        type_hash = _rosbags_hash(type_name)
    return MessageDefinition(type_name, "ros2msg", text, type_hash, str(root))


class _NotFoundError(Exception):
    def __init__(self, type_name: str, relpath: str) -> None:
        super().__init__(type_name)
        self.type_name, self.relpath = type_name, relpath


def _locate(type_name: str, dirs: tuple[Path, ...]) -> Path:
    """The `.msg` file of "pkg/Type" or "pkg/msg/Type" in the first share folder that has it."""
    match = _TYPE_RE.match(type_name)
    if match is None:
        raise _NotFoundError(type_name, f"{type_name}.msg")
    relpath = f"{match.group(1)}/msg/{match.group(3)}.msg"
    for share in dirs:
        if (path := share / relpath).is_file():
            return path
    raise _NotFoundError(type_name, relpath)


def msg_dependencies(text: str, package: str) -> list[str]:
    """Non-primitive field types of a `.msg` text as "pkg/Type", sorted and unique (rosbag2's rule)."""
    deps: set[str] = set()
    for match in _FIELD_TYPE_RE.finditer(text):
        name = match.group(1)
        if name in _PRIMITIVES:
            continue
        deps.add(name if "/" in name else f"{package}/{name}")
    return sorted(deps)


def _full_text(type_name: str, dirs: tuple[Path, ...]) -> tuple[str, Path]:
    seen: set[str] = set()

    def append(name: str, depth: int) -> str:
        if depth <= 0:
            raise RecursionError(f"reached the maximum depth resolving the definition of {type_name}")
        path = _locate(name, dirs)
        text = path.read_text(encoding="utf-8")
        out = [text]
        for dep in msg_dependencies(text, name.split("/", 1)[0]):
            if dep not in seen:
                seen.add(dep)
                out += ["\n", DELIMITER, f"MSG: {dep}\n", append(dep, depth - 1)]
        return "".join(out)

    return append(type_name, _MAX_DEPTH), _locate(type_name, dirs)


def _type_hash(json_path: Path, type_name: str) -> str:
    """The RIHS01 hash from a Jazzy type description JSON (`type_hashes[].hash_string`), else ""."""
    try:
        hashes = json.loads(json_path.read_text(encoding="utf-8"))["type_hashes"]
        return next(str(h["hash_string"]) for h in hashes if h["type_name"] == type_name)
    except (OSError, ValueError, KeyError, TypeError, StopIteration):
        return ""


@cache
def _rosbags_store() -> object | None:
    try:
        from rosbags.typesys import Stores, get_typestore
    except ImportError:  # rosbags is optional for writing
        return None
    return get_typestore(Stores.ROS2_JAZZY)


def _from_rosbags(type_name: str) -> MessageDefinition | None:
    store = _rosbags_store()
    if store is None or type_name not in store.fielddefs:  # type: ignore[attr-defined]
        return None
    text, _ = store.generate_msgdef(type_name, ros_version=2)  # type: ignore[attr-defined]
    return MessageDefinition(type_name, "ros2msg", text, _rosbags_hash(type_name), "rosbags:ros2_jazzy")


def _rosbags_hash(type_name: str) -> str:
    store = _rosbags_store()
    if store is None or type_name not in store.fielddefs:  # type: ignore[attr-defined]
        return ""
    return str(store.hash_rihs01(type_name))  # type: ignore[attr-defined]
