"""Choose MuJoCo's offscreen GL backend before mujoco is imported: MUJOCO_GL=egl, falling back to osmesa.

A value the user already set is kept.
"""

import ctypes.util
import os


def choose_backend() -> str:
    """'egl' if libEGL can be found, else 'osmesa' if libOSMesa can, else 'egl' (fails loudly on render)."""
    if ctypes.util.find_library("EGL"):
        return "egl"
    if ctypes.util.find_library("OSMesa"):
        return "osmesa"
    return "egl"


os.environ.setdefault("MUJOCO_GL", choose_backend())
