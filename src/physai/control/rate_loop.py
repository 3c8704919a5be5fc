"""RateLoop: a periodic loop on absolute deadlines for 500 Hz–1 kHz control loops (no ROS, no MuJoCo).

    with RateLoop(0.002, cpu=1, name="driver") as loop:    # 500 Hz; start() applies the RT settings
        while running:
            missed = loop.wait()                             # sleep to start + k·period
            do_work()                                        # loop.tick_start_ns = when this tick woke
    stats = loop.stats()                                     # ticks, misses, lateness p50/p99/max in µs

Each tick also reads the loop's StallClock (`loop.tick_time_s`): monotonic time less the host stalls, the
clock a node's watchdogs judge ages on (physai.control.stall_clock says why).

Deadlines are `start_ns + k·period_ns` on `time.monotonic_ns()` (CLOCK_MONOTONIC), never "now + period", so
work time and wake-up jitter do not accumulate into drift. On Linux the loop sleeps with libc
`clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)` through ctypes (Python's `time` has no absolute sleep);
elsewhere it falls back to `time.sleep(remaining)`. It never busy-spins.

Missed deadlines: when `wait()` is called after its deadline (the work overran) it returns at once — one late
tick, no sleep — and when more than one deadline has passed the loop skips ahead to the first deadline still
in the future instead of catching up with a burst. Every deadline not met is counted as a miss.

`start()` (or the first `wait()`) with `realtime=True` asks for SCHED_FIFO at `priority` and locks memory
with `mlockall(MCL_CURRENT | MCL_FUTURE)`. With or without it (neither needs a privilege) it pins the calling
thread to `cpu` when given, sets the thread's timer slack to 1 ns and, when `switch_interval_s` is given,
lowers the interpreter's GIL switch interval so that the loop thread, woken at its deadline while another
thread of the process (e.g. a ROS executor) runs Python, gets the GIL back within about that time instead
of after up to 5 ms. Each step that is refused is recorded as a readable reason in `rt_status` (for
/diagnostics), never raised. `start()` then runs `gc.collect()` and `gc.freeze()`: everything allocated
during start-up moves to the permanent generation, so later collections do not traverse it and stay short.
`stop()` restores the thread's scheduling policy, affinity, timer slack and the switch interval; memory
locking and the frozen generation are process-wide and stay.

Without RT privileges the loop's best protection is a CPU of its own: give it `cpu` and keep every other
thread and process off that CPU (`physai.bringup` does this with its `loop_cpu` launch argument).

Scheduling policy, affinity and timer slack are per thread: create, start, wait and stop the loop from the
thread that runs it. A loop whose work always overruns uses its whole CPU like any real-time task; Linux
RT throttling (`/proc/sys/kernel/sched_rt_runtime_us`) is the backstop.
"""

from __future__ import annotations

import ctypes
import errno
import gc
import logging
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from physai.control.stall_clock import STALL_S, StallClock, stall_values
from physai.record import diagnostics as keys

_LOG = logging.getLogger(__name__)

_NS_PER_S = 1_000_000_000
# Linux values (asm-generic): clock and flag ids for clock_nanosleep, mlockall flags, prctl options.
_CLOCK_MONOTONIC = 1
_TIMER_ABSTIME = 1
_MCL_CURRENT = 1
_MCL_FUTURE = 2
_PR_SET_TIMERSLACK = 29
_PR_GET_TIMERSLACK = 30
_SKIPPED = "skipped (realtime=False)"


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


def _load_libc() -> ctypes.CDLL | None:
    """Return libc through the process's own symbols on Linux, else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


_LIBC = _load_libc()


class _AbsoluteSleep:
    """Sleep until an absolute CLOCK_MONOTONIC time in ns with libc clock_nanosleep (one preallocated timespec)."""

    description = "clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)"

    def __init__(self, libc: ctypes.CDLL) -> None:
        self._fn = libc.clock_nanosleep
        self._fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.POINTER(_Timespec), ctypes.POINTER(_Timespec)]
        self._fn.restype = ctypes.c_int
        self._ts = _Timespec()
        self._ts_ref = ctypes.pointer(self._ts)

    def __call__(self, deadline_ns: int) -> None:
        """Sleep until `deadline_ns` (time.monotonic_ns() scale); return at once if it has passed."""
        self._ts.tv_sec = deadline_ns // _NS_PER_S
        self._ts.tv_nsec = deadline_ns % _NS_PER_S
        while True:
            rc = self._fn(_CLOCK_MONOTONIC, _TIMER_ABSTIME, self._ts_ref, None)
            if rc == 0:
                return
            if rc != errno.EINTR:  # clock_nanosleep returns the error number itself
                raise OSError(rc, f"clock_nanosleep: {os.strerror(rc)}")
            # EINTR: Python runs pending signal handlers (e.g. KeyboardInterrupt) here, then we sleep again.


class _RelativeSleep:
    """Sleep until a time.monotonic_ns() deadline with time.sleep: the fallback where libc is not reachable."""

    description = "time.sleep (fallback: no clock_nanosleep)"

    def __call__(self, deadline_ns: int) -> None:
        """Sleep until `deadline_ns`; return at once if it has passed."""
        while (remaining_ns := deadline_ns - time.monotonic_ns()) > 0:
            time.sleep(remaining_ns / _NS_PER_S)


def _prctl(option: int, arg: int) -> int:
    """Call libc prctl(option, arg, 0, 0, 0) with unsigned-long arguments, as the variadic ABI expects."""
    zero = ctypes.c_ulong(0)
    return _LIBC.prctl(ctypes.c_int(option), ctypes.c_ulong(arg), zero, zero, zero)


def request_sched_fifo(priority: int, thread_id: int = 0) -> str:
    """Ask for SCHED_FIFO at `priority` (1–99) for a thread (0: the calling one); the outcome in words.

    "ok (priority N)", or why not. Threads it starts afterwards inherit the policy.
    """
    if not hasattr(os, "sched_setscheduler") or not hasattr(os, "SCHED_FIFO"):
        return "unavailable on this platform"
    try:
        os.sched_setscheduler(thread_id, os.SCHED_FIFO, os.sched_param(priority))
    except ProcessLookupError:
        return "gone (the thread has ended)"
    except PermissionError:
        return "not permitted (EPERM): run with CAP_SYS_NICE or an rtprio limit (ulimit -r) ≥ priority"
    except OSError as exc:
        return f"failed ({_errno_name(exc)}): {exc.strerror}"
    return f"ok (priority {priority})"


FIFO_PRIORITY_ENV = "PHYSAI_FIFO_PRIORITY"
"""Environment variable a launch sets for a node process: the SCHED_FIFO priority (1–99) its threads take once
the node is built (`physai.ros.node_main`); unset or 0 = normal scheduling."""


def request_process_fifo(priority: int) -> str:
    """Ask for SCHED_FIFO at `priority` (1–99) for every thread the process has now; the outcome in words.

    For a node once its start-up work is done: its DDS threads (created by rclpy.init) run at `priority`
    from then on, and threads it starts later inherit it from their creator. "ok (priority N, T threads)", or
    the first refusal.
    """
    try:
        threads = [int(tid) for tid in os.listdir("/proc/self/task")]
    except OSError:
        threads = [0]
    outcomes = [request_sched_fifo(priority, tid) for tid in threads]
    refused = next((o for o in outcomes if not o.startswith(("ok", "gone"))), None)
    return refused or f"ok (priority {priority}, {len(threads)} threads)"


def _errno_name(exc: OSError) -> str:
    return errno.errorcode.get(exc.errno or 0, str(exc.errno))


def _memlock_limit() -> str:
    try:
        import resource  # Unix only

        soft, _ = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    except (ImportError, OSError, ValueError):
        return "unknown"
    return "unlimited" if soft == resource.RLIM_INFINITY else f"{soft // 1024} KiB"


@dataclass(frozen=True)
class LoopStats:
    """A snapshot of a RateLoop's counters and wake-up lateness, computed on demand by `RateLoop.stats()`."""

    name: str
    """The loop's name."""
    period_s: float
    """Loop period in s."""
    ticks: int
    """Ticks since start(): the number of times wait() returned."""
    misses: int
    """Deadlines not met since start() (see RateLoop.wait)."""
    lateness_p50_us: float
    """Median wake-up lateness in µs over the last `window` ticks (NaN before the first tick)."""
    lateness_p99_us: float
    """99th-percentile wake-up lateness in µs over the last `window` ticks."""
    lateness_max_us: float
    """Largest wake-up lateness in µs over the last `window` ticks."""
    window: int
    """Number of ticks the lateness figures cover (at most the loop's ring size)."""
    host_stalls: int = 0
    """Gaps between ticks that were host stalls (StallClock) since the loop was made."""
    longest_stall_ms: float = 0.0
    """The longest of them (ms); 0 before any."""
    rt_status: dict[str, str] = field(default_factory=dict)
    """What start() got: sleep method, sched_fifo, affinity, mlockall, timer_slack, gc → readable reason."""

    def lateness_us(self) -> dict[str, float]:
        """{"p50", "p99", "max"} wake-up lateness in µs, as benchmark reports write it."""
        return {"p50": self.lateness_p50_us, "p99": self.lateness_p99_us, "max": self.lateness_max_us}

    def as_dict(self) -> dict[str, str]:
        """Return every field as strings, e.g. for diagnostic_msgs/KeyValue pairs on /diagnostics."""
        out = {
            "period_s": f"{self.period_s:g}",
            keys.TICKS: str(self.ticks),
            keys.MISSES: str(self.misses),
            keys.LATENESS_P50_US: f"{self.lateness_p50_us:.1f}",
            keys.LATENESS_P99_US: f"{self.lateness_p99_us:.1f}",
            keys.LATENESS_MAX_US: f"{self.lateness_max_us:.1f}",
            "window": str(self.window),
            **stall_values(self.host_stalls, self.longest_stall_ms),
        }
        out.update(self.rt_status)
        return out


class RateLoop:
    """A periodic loop on absolute deadlines with lateness statistics and optional real-time scheduling.

    Attributes:
        period_s: Loop period in s.
        period_ns: Loop period in ns (rounded).
        name: Name used in logs and stats.
        rt_status: Readable outcome of each start-up step (see the module docstring); empty before start().
        start_ns: time.monotonic_ns() at start(); deadline k is `start_ns + k·period_ns`, k = 1, 2, ...
        tick_start_ns: time.monotonic_ns() when the current tick's wait() returned, so a node can measure
            its own work time as `time.monotonic_ns() - loop.tick_start_ns`.
        tick_time_s: The same instant on the loop's StallClock (s): what the node's watchdogs take as now.
        clock: The StallClock the ticks advance.
        ticks: Ticks since start().
        misses: Deadlines not met since start().
    """

    def __init__(
        self,
        period_s: float,
        *,
        realtime: bool = True,
        cpu: int | None = None,
        priority: int = 80,
        name: str = "loop",
        window: int = 10_000,
        switch_interval_s: float | None = None,
        stall_s: float = STALL_S,
    ) -> None:
        """Create a loop; nothing is applied until start() or the first wait().

        Args:
            period_s: Loop period in s (e.g. 0.002 for 500 Hz); finite and > 0.
            realtime: Ask for SCHED_FIFO, mlockall, affinity and 1 ns timer slack on start(); False skips
                them all (tests, dev machines).
            cpu: CPU index to pin the loop's thread to, or None to leave affinity alone.
            priority: SCHED_FIFO priority, 1–99.
            name: Name for logs and stats.
            window: Number of most recent ticks the lateness percentiles cover (preallocated ring).
            switch_interval_s: GIL switch interval (s) while the loop runs (e.g. 1e-5 in a node whose
                callbacks run in another thread); None leaves the interpreter's (5 ms by default).
            stall_s: A tick later than one period by more than this (s) found the host stalled (StallClock).

        Raises:
            ValueError: A parameter is out of range; the message names it.
        """
        try:
            period_ok = math.isfinite(period_s) and period_s > 0
        except TypeError:
            period_ok = False
        if not period_ok:
            raise ValueError(f"RateLoop period_s={period_s!r}: expected a finite number of seconds > 0")
        if round(period_s * _NS_PER_S) < 1:
            raise ValueError(f"RateLoop period_s={period_s!r}: expected at least 1 ns")
        if not 1 <= priority <= 99:
            raise ValueError(f"RateLoop priority={priority!r}: expected a SCHED_FIFO priority in 1..99")
        if cpu is not None and cpu < 0:
            raise ValueError(f"RateLoop cpu={cpu!r}: expected a CPU index ≥ 0 or None")
        if window < 1:
            raise ValueError(f"RateLoop window={window!r}: expected ≥ 1 tick")
        if switch_interval_s is not None and not (math.isfinite(switch_interval_s) and switch_interval_s > 0):
            raise ValueError(f"RateLoop switch_interval_s={switch_interval_s!r}: expected a finite number of s > 0")
        self.period_s = float(period_s)
        self.period_ns = round(period_s * _NS_PER_S)
        self.realtime = realtime
        self.cpu = cpu
        self.priority = priority
        self.name = name
        self.switch_interval_s = switch_interval_s
        self.rt_status: dict[str, str] = {}
        self.start_ns = 0
        self.tick_start_ns = 0
        self.clock = StallClock(self.period_s, stall_s)
        self.tick_time_s = 0.0
        self.ticks = 0
        self.misses = 0
        self._k = 1  # index of the next deadline
        self._lateness_ns = np.zeros(window, dtype=np.int64)  # ring of wake-up lateness, ns
        self._ring_i = 0
        self._ring_n = 0
        self._running = False
        self._restore: list[Callable[[], None]] = []
        self._sleep_until = _AbsoluteSleep(_LIBC) if _LIBC is not None else _RelativeSleep()

    @property
    def running(self) -> bool:
        """Whether start() has run and stop() has not."""
        return self._running

    @property
    def next_deadline_ns(self) -> int:
        """The deadline the next wait() sleeps to, in time.monotonic_ns() ns."""
        return self.start_ns + self._k * self.period_ns

    def start(self) -> RateLoop:
        """Apply the real-time settings, freeze the GC and start the deadline grid at now; no-op if running.

        Counters and the lateness ring are reset. Call from the thread that will run the loop.

        Returns:
            self, for chaining.
        """
        if self._running:
            return self
        self.rt_status = {"sleep": self._sleep_until.description}
        if self.realtime:
            self._apply_realtime()
        else:
            for key in ("sched_fifo", "mlockall"):
                self.rt_status[key] = _SKIPPED
            self.rt_status["affinity"] = self._try_affinity()  # unprivileged: always worth it
            self.rt_status["timer_slack"] = self._try_timer_slack()
        if self.switch_interval_s is not None:
            old_interval = sys.getswitchinterval()
            sys.setswitchinterval(self.switch_interval_s)
            self._restore.append(lambda: sys.setswitchinterval(old_interval))
            self.rt_status["gil_switch_interval"] = f"{self.switch_interval_s * 1e6:g} us"
        gc.collect()
        gc.freeze()
        self.rt_status["gc"] = f"frozen ({gc.get_freeze_count()} objects)"
        _LOG.info("RateLoop %r: %.6g s period, %s", self.name, self.period_s, self.rt_status)
        self.ticks = 0
        self.misses = 0
        self._ring_i = 0
        self._ring_n = 0
        self._k = 1
        self._running = True
        self.start_ns = time.monotonic_ns()
        self.tick_start_ns = self.start_ns
        self.clock.restart(self.start_ns / _NS_PER_S)
        self.tick_time_s = self.clock.time(self.start_ns / _NS_PER_S)
        return self

    def resync(self) -> None:
        """Restart the deadline grid at now, e.g. after a blocking start-up step (no host stall); counters are kept."""
        self._k = 1
        self.start_ns = time.monotonic_ns()
        self.tick_start_ns = self.start_ns
        self.clock.restart(self.start_ns / _NS_PER_S)

    def stop(self) -> None:
        """Stop the loop and restore the thread's scheduling policy, affinity and timer slack."""
        while self._restore:
            undo = self._restore.pop()
            try:
                undo()
            except OSError as exc:
                _LOG.warning("RateLoop %r: could not restore a thread setting: %s", self.name, exc)
        self._running = False

    def __enter__(self) -> RateLoop:
        """Start the loop (see start())."""
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        """Stop the loop (see stop())."""
        self.stop()

    def wait(self) -> int:
        """Sleep until the next deadline and return the number of deadlines missed (0 normally).

        If the deadline has already passed when wait() is called (the previous work overran), it returns at
        once without sleeping. A deadline is missed when wait() is called after it, and every later deadline
        that has also passed by the time wait() returns is missed too; the next deadline is then the first
        one still in the future (no catch-up burst), so the grid stays `start_ns + k·period_ns`. The tick's
        lateness (return time − the deadline it slept to, µs in stats) goes into the ring. Starts the loop
        if start() has not been called.

        Returns:
            Deadlines missed by this tick: 0 on time, ≥ 1 after an overrun or a late wake-up of > 1 period.
        """
        if not self._running:
            self.start()
        deadline = self.start_ns + self._k * self.period_ns
        now = time.monotonic_ns()
        overran = now > deadline
        if not overran:
            self._sleep_until(deadline)
            now = time.monotonic_ns()
        late = now - deadline if now > deadline else 0
        skipped = late // self.period_ns
        missed = skipped + overran
        self._k += skipped + 1
        self.ticks += 1
        self.misses += missed
        self._lateness_ns[self._ring_i] = late
        self._ring_i += 1
        if self._ring_i == self._lateness_ns.shape[0]:
            self._ring_i = 0
        if self._ring_n < self._lateness_ns.shape[0]:
            self._ring_n += 1
        self.tick_start_ns = now
        self.tick_time_s = self.clock.tick(now / _NS_PER_S)
        return missed

    def run(
        self,
        fn: Callable[[], object],
        *,
        duration_s: float | None = None,
        ticks: int | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> LoopStats:
        """Call `fn()` once per period until a limit is reached; with no limit, run until interrupted.

        Starts the loop if needed, and then stops it again on return.

        Args:
            fn: Work for one tick; its return value is ignored.
            duration_s: Stop before the first deadline more than `duration_s` s after the call.
            ticks: Stop after this many ticks.
            should_stop: Checked before each tick; True stops the loop.

        Returns:
            stats() at the end.
        """
        started_here = not self._running
        if started_here:
            self.start()
        end_ns = None if duration_s is None else time.monotonic_ns() + round(duration_s * _NS_PER_S)
        n = 0
        try:
            while ticks is None or n < ticks:
                if (end_ns is not None and self.next_deadline_ns > end_ns) or (should_stop and should_stop()):
                    break
                self.wait()
                fn()
                n += 1
        finally:
            if started_here:
                self.stop()
        return self.stats()

    def stats(self) -> LoopStats:
        """Compute counters and lateness percentiles over the ring now (not per tick)."""
        n = self._ring_n
        if n:
            lateness_us = self._lateness_ns[:n] / 1e3
            p50, p99 = np.percentile(lateness_us, [50.0, 99.0])
            worst = lateness_us.max()
        else:
            p50 = p99 = worst = math.nan
        return LoopStats(
            name=self.name,
            period_s=self.period_s,
            ticks=self.ticks,
            misses=self.misses,
            lateness_p50_us=float(p50),
            lateness_p99_us=float(p99),
            lateness_max_us=float(worst),
            window=n,
            host_stalls=self.clock.stalls,
            longest_stall_ms=self.clock.longest_s * 1e3,
            rt_status=dict(self.rt_status),
        )

    # -- real-time set-up -------------------------------------------------------------------------------

    def _apply_realtime(self) -> None:
        """Try SCHED_FIFO, affinity, mlockall and timer slack; record each outcome in rt_status."""
        self.rt_status["sched_fifo"] = self._try_sched_fifo()
        self.rt_status["affinity"] = self._try_affinity()
        self.rt_status["mlockall"] = self._try_mlockall()
        self.rt_status["timer_slack"] = self._try_timer_slack()
        keys = ("sched_fifo", "affinity", "mlockall", "timer_slack")
        refused = {k: self.rt_status[k] for k in keys if not self.rt_status[k].startswith(("ok", "cpu ", "not set"))}
        if refused:
            _LOG.warning("RateLoop %r: real-time settings not granted: %s", self.name, refused)

    def _try_sched_fifo(self) -> str:
        if not hasattr(os, "sched_getscheduler"):
            return "unavailable on this platform"
        old_policy, old_priority = os.sched_getscheduler(0), os.sched_getparam(0).sched_priority
        outcome = request_sched_fifo(self.priority)
        if outcome.startswith("ok"):
            self._restore.append(lambda: os.sched_setscheduler(0, old_policy, os.sched_param(old_priority)))
        return outcome

    def _try_affinity(self) -> str:
        if self.cpu is None:
            return "not set (cpu=None)"
        if not hasattr(os, "sched_setaffinity"):
            return "unavailable on this platform"
        try:
            old = os.sched_getaffinity(0)
            os.sched_setaffinity(0, {self.cpu})
        except OSError as exc:
            allowed = sorted(os.sched_getaffinity(0))
            return f"cpu {self.cpu} refused ({_errno_name(exc)}): allowed cpus {allowed}"
        self._restore.append(lambda: os.sched_setaffinity(0, old))
        return f"cpu {self.cpu}"

    def _try_mlockall(self) -> str:
        if _LIBC is None:
            return "unavailable on this platform"
        if _LIBC.mlockall(_MCL_CURRENT | _MCL_FUTURE) == 0:
            return "ok"
        err = ctypes.get_errno()
        name = errno.errorcode.get(err, str(err))
        if err in (errno.EPERM, errno.ENOMEM, errno.EAGAIN):
            return (
                f"not permitted ({name}): memlock limit {_memlock_limit()} is below the process size; "
                "use `ulimit -l unlimited` or CAP_IPC_LOCK"
            )
        return f"failed ({name}): {os.strerror(err)}"

    def _try_timer_slack(self) -> str:
        if _LIBC is None:
            return "unavailable on this platform"
        old = _prctl(_PR_GET_TIMERSLACK, 0)
        if old < 0 or _prctl(_PR_SET_TIMERSLACK, 1) != 0:
            err = ctypes.get_errno()
            return f"failed ({errno.errorcode.get(err, str(err))}): {os.strerror(err)}"
        self._restore.append(lambda: _prctl(_PR_SET_TIMERSLACK, old))
        return f"ok (1 ns, was {old} ns)"
