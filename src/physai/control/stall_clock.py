"""StallClock: monotonic time less the host's stalls, the clock a periodic node judges its watchdogs on (no ROS).

    clock = StallClock(period_s=0.002)                # a 500 Hz loop
    now_s = clock.tick(time.monotonic())              # at each tick: this tick's time on the clock (s)
    clock.time(time.monotonic())                      # between ticks (s)

A gap between two ticks longer than `period_s + stall_s` is a **host stall**: the process did not run. Its
excess over that bound is left out of the clock, so ages measured on it (a motor's unanswered command, the
commander's last message, a policy's last input) count only time the host ran. Each stall is counted and the
longest one kept, for /diagnostics (`host_stalls`, `longest_stall_ms`).

Why: on a virtual machine the hypervisor takes the vCPUs away (steal time). Measured on this 2-core VM, idle,
a SCHED_FIFO-99 thread sleeping 1 ms saw gaps of 10–50 ms with steal time rising on both CPUs at once; CI
runs saw every motor "stale" at once after 165–218 ms. During such a stall nothing on the host runs: not the
driver, not the policy, not the HIL plant. A watchdog on raw time then blames the motors or the commander for
the host's pause, and latches the robot into damping. On this clock a motor is stale when it left its commands
unanswered for the timeout *of time the host ran*. On real hardware the motors keep running through a host
stall and their replies wait in the socket buffer, so the verdicts do not change there; a motor that does not
answer is still stale `stale_s` after the host runs again. What the clock leaves out, the counters show.

The clock can step back, at the tick that finds a stall, by at most that stall's excess: a time read between
ticks just after a stall is ahead of the next tick's. Ages taken on it are clamped at 0 by their users.
"""

from __future__ import annotations

import math

from physai.record import diagnostics as keys

STALL_S = 0.01
"""A tick later than one period by more than this (s) found the host stalled. Scheduling jitter on this VM
stays below it (empty-loop p99 80–240 µs); hypervisor steal is 10 ms and more."""


class StallClock:
    """Monotonic seconds less the host stalls found by `tick` (see the module docstring)."""

    def __init__(self, period_s: float, stall_s: float = STALL_S) -> None:
        """A clock with no tick yet.

        Args:
            period_s: The tick period (s), finite and > 0.
            stall_s: Lateness beyond one period that counts as a host stall (s), finite and > 0.
        """
        for name, value in (("period_s", period_s), ("stall_s", stall_s)):
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"StallClock {name}={value!r}: expected a finite number of seconds > 0")
        self.bound_s = float(period_s) + float(stall_s)
        """The longest gap between two ticks (s) that is not a stall."""
        self.stalled_s = 0.0
        """Time left out so far (s)."""
        self.stalls = 0
        """Host stalls found so far."""
        self.longest_s = 0.0
        """The longest gap between two ticks that was a stall (s); 0 before any."""
        self._last_s: float | None = None

    def restart(self, now_s: float) -> None:
        """Take `now_s` as the previous tick (after a blocking start-up step, which is no stall); totals stay."""
        self._last_s = now_s

    def tick(self, now_s: float) -> float:
        """A tick at monotonic `now_s` (s); returns its time on the clock (s)."""
        if self._last_s is not None:
            gap = now_s - self._last_s
            if gap > self.bound_s:
                self.stalled_s += gap - self.bound_s
                self.stalls += 1
                self.longest_s = max(self.longest_s, gap)
        self._last_s = now_s
        return now_s - self.stalled_s

    def time(self, now_s: float) -> float:
        """Monotonic `now_s` on the clock (s), between ticks."""
        return now_s - self.stalled_s

    def as_dict(self) -> dict[str, str]:
        """The stall counters as strings, for /diagnostics."""
        return stall_values(self.stalls, self.longest_s * 1e3)


def stall_values(stalls: int, longest_ms: float) -> dict[str, str]:
    """/diagnostics values of a count of host stalls and the longest (ms): the one place they are written."""
    return {keys.HOST_STALLS: str(stalls), keys.LONGEST_STALL_MS: f"{longest_ms:.1f}"}
