"""Control-loop core (no ROS, no MuJoCo): the shared JointCommand, SafetyGuard and RateLoop."""

from physai.control.command import JointCommand
from physai.control.rate_loop import LoopStats, RateLoop
from physai.control.safety import Event, GuardConfig, GuardMode, Rejection, SafetyGuard

__all__ = ["Event", "GuardConfig", "GuardMode", "JointCommand", "LoopStats", "RateLoop", "Rejection", "SafetyGuard"]
