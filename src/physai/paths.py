"""Where physai's data folders live: a source checkout, a colcon install, or $PHYSAI_SHARE.

The data folders (robot_descriptions/, sim_envs/, policies/, launch/) sit at the top of the source tree
and are installed under share/physai by colcon. `data_root()` finds them without ROS: first
$PHYSAI_SHARE, then the checkout this module was imported from, then the ament index (if present).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

_MARKER = "robot_descriptions"


@cache
def data_root() -> Path:
    """Return the folder holding robot_descriptions/, sim_envs/, policies/ and launch/."""
    candidates: list[Path] = []
    if env := os.environ.get("PHYSAI_SHARE"):
        candidates.append(Path(env))
    here = Path(__file__).resolve()
    candidates.append(here.parents[2])  # <checkout>/src/physai/paths.py
    candidates += [p / "share" / "physai" for p in here.parents]  # <prefix>/lib/pythonX/site-packages/...
    for path in candidates:
        if (path / _MARKER).is_dir():
            return path
    try:
        from ament_index_python.packages import get_package_share_directory

        return Path(get_package_share_directory("physai"))
    except Exception as err:  # ament is optional; report what was searched instead
        searched = ", ".join(str(p) for p in candidates[:3])
        raise FileNotFoundError(
            f"physai data folders not found (looked for {_MARKER}/ in {searched} and the ament index); "
            "set PHYSAI_SHARE to the folder that holds robot_descriptions/"
        ) from err


def robot_descriptions_dir() -> Path:
    """Folder with one sub-folder per robot, each holding robot.yaml."""
    return data_root() / "robot_descriptions"


def scenes_dir() -> Path:
    """Folder with world scenes (MJCF) such as flat.xml and rough.xml."""
    return data_root() / "sim_envs" / "scenes"


SCRATCH_KEEP = 20
"""Run folders (logs, params) kept under $TMPDIR/physai; older ones beyond this many are removed."""
SCRATCH_MIN_AGE_S = 3600.0
"""A run folder younger than this is never removed (its run may still be going)."""


def scratch_dir(prefix: str) -> Path:
    """A new folder $TMPDIR/physai/<prefix>XXXX for one run's logs and params.

    The folders of earlier runs beyond the newest SCRATCH_KEEP, and older than SCRATCH_MIN_AGE_S, are removed
    first, so they do not pile up (a launch prints its folder; a user reads it soon after).
    """
    import shutil
    import tempfile
    import time

    base = Path(tempfile.gettempdir()) / "physai"
    base.mkdir(exist_ok=True)
    folders = sorted((p for p in base.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    now = time.time()
    for old in folders[SCRATCH_KEEP:]:
        if now - old.stat().st_mtime > SCRATCH_MIN_AGE_S:
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=base))
