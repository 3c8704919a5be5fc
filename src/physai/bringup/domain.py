"""One DDS domain per run: the ROS_DOMAIN_ID of a launch, held so no other physai run on this host takes it.

Two runs on one domain cross-talk (each sim would take the other's /joint_commands, each bag record both).
A launch therefore leases a domain for as long as it runs: an flock on /tmp/physai-domains/<id>.lock (one folder
per host, whatever TMPDIR says), which the kernel drops when the process ends, however it ends. Without
ROS_DOMAIN_ID in the environment a launch takes the lowest free id from 0 (the first run on a host is on ROS's
default domain, where `ros2 topic list` looks); with it set, it uses that id and warns when another physai run holds it. Tests and benchmarks lease
from TEST_DOMAINS, above every id a launch takes by itself, so they never share a user's run.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

LAUNCH_DOMAINS = range(0, 101)
"""Ids a launch picks from by itself (ROS 2's usual 0–101 for Linux)."""
TEST_DOMAINS = range(215, 233)
"""Ids tests and benchmarks pick from: above every id a launch takes by itself, and with ports (7400 + 250 × id
…) above Linux's ephemeral range (32768–60999), where another socket could hold one; Fast DDS's ports stay
below 65535 up to 232."""


_HELD: set[int] = set()
"""Domains this process leases now (a launch inside a test's own domain takes it without a second lock)."""


LOCK_DIR = Path("/tmp/physai-domains")
"""One folder for the whole host, whatever a process's TMPDIR (a run's TMPDIR must not hide its lease)."""


def _lock_dir() -> Path:
    LOCK_DIR.mkdir(exist_ok=True)
    with contextlib.suppress(OSError):  # every user's runs lease from the same folder
        LOCK_DIR.chmod(0o1777)
    return LOCK_DIR


def _try_lock(domain: int) -> int | None:
    """An open, locked file descriptor for `domain`, or None when another process holds it."""
    fd = os.open(_lock_dir() / f"{domain}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    _HELD.add(domain)
    return fd


def _release(domain: int, fd: int) -> None:
    _HELD.discard(domain)
    os.close(fd)


@contextmanager
def domain_lease(env: Mapping[str, str], choices: range = LAUNCH_DOMAINS) -> Iterator[tuple[int, bool]]:
    """(domain id, chosen here) for the block: env's ROS_DOMAIN_ID if set, else the lowest free id of `choices`.

    RuntimeError when every id of `choices` is held.
    """
    given = env.get("ROS_DOMAIN_ID", "").strip()
    if given:
        try:
            domain = int(given)
        except ValueError:
            raise ValueError(f"ROS_DOMAIN_ID={given!r}; expected a whole number 0–232") from None
        if domain in _HELD:  # this process leased it (a test's own domain): the launch is part of that run
            yield domain, False
            return
        fd = _try_lock(domain)
        if fd is None:
            print(f"physai: another physai run on this host uses ROS_DOMAIN_ID={domain}; they see each other's "
                  "topics (unset ROS_DOMAIN_ID to get a domain of its own)", file=sys.stderr)  # fmt: skip
        try:
            yield domain, False
        finally:
            if fd is not None:
                _release(domain, fd)
        return
    for domain in choices:
        fd = _try_lock(domain)
        if fd is not None:
            break
    else:
        raise RuntimeError(f"every DDS domain {choices.start}–{choices.stop - 1} is held by a physai run on this host")
    try:
        yield domain, True
    finally:
        _release(domain, fd)


@contextmanager
def own_domain(choices: range = TEST_DOMAINS) -> Iterator[int]:
    """Put this process (and what it starts) on a leased domain of its own for the block: os.environ updated.

    For tests and benchmarks, whose in-process rclpy nodes must share the domain of the nodes they launch;
    call it before rclpy is initialised.
    """
    saved = os.environ.pop("ROS_DOMAIN_ID", None)
    with domain_lease({}, choices) as (domain, _):
        os.environ["ROS_DOMAIN_ID"] = str(domain)
        try:
            yield domain
        finally:
            if saved is None:
                os.environ.pop("ROS_DOMAIN_ID", None)
            else:
                os.environ["ROS_DOMAIN_ID"] = saved
