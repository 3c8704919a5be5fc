"""Host scheduling a real-time launch needs beyond its own processes: the softirq threads above the loops.

Network and CAN frames (SocketCAN, the virtual buses' UDP datagrams, DDS over UDP) are delivered in softirq
context. The kernel runs softirqs inline after an interrupt or a send, but once a burst has woken the CPU's
ksoftirqd thread, every later softirq on that CPU waits for it, and ksoftirqd is an ordinary (SCHED_OTHER)
thread: SCHED_FIFO loops that keep both CPUs busy hold it off for tens of milliseconds. Measured in a HIL
stand on this 2-core machine (perf sched): ksoftirqd/0 and /1 waited up to 33–45 ms to run, the driver saw
all twelve motors' replies go stale at once, and policy commands published at 50 Hz reached the driver more
than the 50 ms timeout apart. RT hosts (PREEMPT_RT tuning guides, rtirq) give the softirq threads a FIFO
priority above the application's loops; `softirq_threads_fifo` does that for the length of a launch and puts
the old scheduling back afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

SOFTIRQ_PRIORITY = 90
"""SCHED_FIFO priority of ksoftirqd/N during a real-time launch: above the loops (80) and the policy (85)."""


def softirq_threads() -> dict[int, str]:
    """{pid: name} of the kernel's per-CPU softirq threads (ksoftirqd/N)."""
    threads = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                name = (entry / "comm").read_text().strip()
            except OSError:  # gone meanwhile
                continue
            if name.startswith("ksoftirqd/"):
                threads[int(entry.name)] = name
    return threads


@contextmanager
def softirq_threads_fifo(priority: int = SOFTIRQ_PRIORITY) -> Iterator[str]:
    """Run ksoftirqd/N at SCHED_FIFO `priority` inside the block, then restore each thread's old policy.

    Yields the outcome in words: "ksoftirqd/0, ksoftirqd/1 at SCHED_FIFO 90", or why they were left alone
    (not Linux, not permitted without CAP_SYS_NICE). Nothing is changed when it cannot be changed for all.
    """
    if not hasattr(os, "sched_setscheduler") or not Path("/proc/self/comm").exists():
        yield "left alone (no Linux scheduling API)"
        return
    threads = softirq_threads()
    saved: dict[int, tuple[int, os.sched_param]] = {}
    outcome = ""
    try:
        for pid in sorted(threads):
            policy, param = os.sched_getscheduler(pid), os.sched_getparam(pid)
            os.sched_setscheduler(pid, os.SCHED_FIFO, os.sched_param(priority))
            saved[pid] = (policy, param)
    except PermissionError:
        outcome = "left at normal priority (not permitted: needs CAP_SYS_NICE)"
    except ProcessLookupError:
        outcome = "left at normal priority (a softirq thread vanished)"
    if outcome:
        _restore(saved)
        yield outcome
        return
    try:
        yield f"{', '.join(threads[p] for p in sorted(threads))} at SCHED_FIFO {priority}" if threads else "none found"
    finally:
        _restore(saved)


def _restore(saved: dict[int, tuple[int, os.sched_param]]) -> None:
    for pid, (policy, param) in saved.items():
        with suppress(OSError):  # a CPU went offline meanwhile: its thread is gone
            os.sched_setscheduler(pid, policy, param)
