"""MuJoCo simulation core (no ROS): Simulator, BatchSim, the PD actuator model, rendering.

Importing physai picks an offscreen GL backend for MuJoCo if none is set: EGL when libEGL is present,
else OSMesa (see physai.gl).
"""

from physai.robot.state import RobotState
from physai.sim.batch import BatchSim
from physai.sim.mjcf import PHYSICS_DT_S, build_model, check_spec_against_mjcf
from physai.sim.simulator import Simulator
from physai.sim.state import StateLayout

__all__ = [
    "PHYSICS_DT_S",
    "BatchSim",
    "RobotState",
    "Simulator",
    "StateLayout",
    "build_model",
    "check_spec_against_mjcf",
]
