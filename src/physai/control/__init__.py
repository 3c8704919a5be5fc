"""Control-loop core (no ROS, no MuJoCo): SafetyGuard and RateLoop (JointCommand lives in physai.robot)."""

from physai.control.rate_loop import LoopStats, RateLoop
from physai.control.safety import Event, GuardConfig, GuardMode, Rejection, SafetyGuard

__all__ = ["Event", "GuardConfig", "GuardMode", "LoopStats", "RateLoop", "Rejection", "SafetyGuard"]
