"""MuJoCo simulation core (no ROS): Simulator, BatchSim, the PD actuator model, rendering.

Importing physai picks an offscreen GL backend for MuJoCo if none is set: EGL when libEGL is present,
else OSMesa (see physai.gl).
"""

from physai.control.command import JointCommand
from physai.sim.batch import BatchSim
from physai.sim.mjcf import PHYSICS_DT_S, build_model, check_spec_against_mjcf
from physai.sim.simulator import Simulator
from physai.sim.state import RobotState, StateLayout

__all__ = [
    "PHYSICS_DT_S",
    "BatchSim",
    "JointCommand",
    "RobotState",
    "Simulator",
    "StateLayout",
    "build_model",
    "check_spec_against_mjcf",
]
