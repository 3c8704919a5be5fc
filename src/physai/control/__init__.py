"""Control-loop core (no ROS, no MuJoCo): SafetyGuard, RateLoop and its StallClock (JointCommand lives in physai.robot)."""

from physai.control.rate_loop import LoopStats, RateLoop
from physai.control.safety import Event, GuardConfig, GuardMode, Rejection, SafetyGuard
from physai.control.stall_clock import StallClock

__all__ = ["Event", "GuardConfig", "GuardMode", "LoopStats", "RateLoop", "Rejection", "SafetyGuard", "StallClock"]
