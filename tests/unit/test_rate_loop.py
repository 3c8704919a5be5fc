"""RateLoop: absolute deadlines, miss policy, no spinning, RT status, no per-tick allocation.

Real timing on a noisy shared machine: bounds are generous and assert behaviour, not microseconds.
Every in-process loop uses realtime=False; the SCHED_FIFO case runs only in a short-lived subprocess, so a
runaway real-time thread can never take the test machine down.
"""

import json
import math
import os
import subprocess
import sys
import textwrap
import time
import tracemalloc

import pytest

from physai.control.rate_loop import LoopStats, RateLoop

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux scheduling API")


def test_200_ticks_at_500_hz_take_about_0_4_s():
    loop = RateLoop(0.002, realtime=False, name="t500")
    loop.start()  # gc.collect() + gc.freeze() happen here, outside the timed ticks
    t0 = time.perf_counter()
    stats = loop.run(lambda: None, ticks=200)
    wall_s = time.perf_counter() - t0
    loop.stop()

    assert 0.39 <= wall_s <= 1.0  # never early (absolute deadlines); generous upper bound on a shared VM
    assert isinstance(stats, LoopStats)
    assert stats.ticks == 200
    assert stats.window == 200
    assert stats.period_s == 0.002
    assert 0.0 <= stats.lateness_p50_us <= stats.lateness_p99_us <= stats.lateness_max_us
    assert stats.lateness_p50_us < 2000.0  # median wake-up is well inside one period
    assert stats.rt_status["sched_fifo"] == "skipped (realtime=False)"
    assert stats.rt_status["gc"].startswith("frozen")
    assert not loop.running  # run() stops what it started
    assert set(stats.as_dict()) >= {"ticks", "misses", "lateness_p99_us", "sched_fifo"}


def _run_with_overruns(period_s: float, n: int, sleeps: dict[int, float]) -> tuple[RateLoop, list, list, list]:
    """n ticks, tick i working `sleeps[i]` periods; (loop, deadline each tick served, wake times, misses)."""
    served, wake_ns, missed = [], [], []
    with RateLoop(period_s, realtime=False) as loop:
        for i in range(n):
            served.append(loop.next_deadline_ns)
            missed.append(loop.wait())
            wake_ns.append(loop.tick_start_ns)
            if i in sleeps:
                time.sleep(sleeps[i] * period_s)
    return loop, served, wake_ns, missed


def _assert_on_the_grid(loop: RateLoop, served: list, wake_ns: list) -> None:
    """Every tick woke at or after its deadline, and the next deadline is the first grid point after the wake.

    That is the absolute-deadline law whatever the machine did meanwhile (a stall of the test machine is one
    more late wake-up): a relative sleep would put the next deadline one period after the wake, off the grid.
    """
    period_ns = loop.period_ns
    for i, (deadline, woke) in enumerate(zip(served, wake_ns, strict=True)):
        assert woke >= deadline, f"tick {i} woke before its deadline"
        assert (deadline - loop.start_ns) % period_ns == 0, f"deadline of tick {i} is off the grid"
        if i + 1 < len(served):
            skipped = (woke - deadline) // period_ns
            assert served[i + 1] == deadline + (1 + skipped) * period_ns, f"tick {i + 1} is not the next grid point"


def test_overrun_counts_a_miss_and_stays_phase_locked():
    period_s, n = 0.01, 40
    loop, served, wake_ns, missed = _run_with_overruns(period_s, n, {10: 1.5})  # overrun once by half a period
    period_ns = loop.period_ns

    assert missed[11] >= 1  # called after its deadline
    assert loop.stats().misses >= 1
    # Absolute deadlines: the overrun does not shift the grid (tick 11 is late, tick 12 serves the next point).
    _assert_on_the_grid(loop, served, wake_ns)
    assert served[0] == loop.start_ns + period_ns
    # After the late tick, wake-ups sit at the start of their period again (phase-locked; the median).
    phases = sorted((t - loop.start_ns) % period_ns for t in wake_ns[12:])
    assert phases[len(phases) // 2] < 0.2 * period_ns


def test_overrun_of_several_periods_skips_ahead_without_a_burst():
    period_s = 0.01
    loop, served, wake_ns, missed = _run_with_overruns(period_s, 20, {5: 3.5})  # deadlines 7–9 pass meanwhile

    assert missed[6] >= 3
    assert loop.stats().misses >= 3
    # No catch-up: the late tick skips to the first future grid point; no two ticks serve one deadline.
    _assert_on_the_grid(loop, served, wake_ns)
    assert served[7] - served[6] >= 3 * loop.period_ns  # deadline 7 served late, then 10
    assert len(set(served)) == len(served)
    # Skipped deadlines are not made up: 20 ticks end past deadline 22, on the grid.
    assert served[-1] - loop.start_ns >= 22 * loop.period_ns


def test_idle_loop_sleeps_instead_of_spinning():
    loop = RateLoop(0.002, realtime=False)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    loop.run(lambda: None, duration_s=0.5)
    cpu_s, wall_s = time.process_time() - cpu0, time.perf_counter() - wall0
    assert wall_s >= 0.45
    assert cpu_s < 0.25 * wall_s


def test_ring_buffer_is_preallocated_no_growth_over_many_ticks():
    loop = RateLoop(0.0001, realtime=False, window=10_000)
    tracemalloc.start()
    try:
        loop.start()
        loop.run(lambda: None, ticks=200)  # warm-up: first-call caches
        before, _ = tracemalloc.get_traced_memory()
        loop.run(lambda: None, ticks=12_000)  # wraps the 10 000-tick ring
        after, _ = tracemalloc.get_traced_memory()
        loop.stop()
    finally:
        tracemalloc.stop()
    assert after - before < 16 * 1024  # bytes; a per-tick allocation would be ≥ 12 000 × 28 B
    stats = loop.stats()
    assert stats.ticks == 12_200
    assert stats.window == 10_000


def test_context_manager_and_stats_before_first_tick():
    with RateLoop(0.002, realtime=False, name="ctx") as loop:
        assert loop.running
        empty = loop.stats()
        assert empty.ticks == 0
        assert math.isnan(empty.lateness_p50_us)
        loop.wait()
        assert loop.tick_start_ns >= loop.start_ns
    assert not loop.running
    assert loop.stats().ticks == 1


def test_wait_starts_the_loop_on_first_use():
    loop = RateLoop(0.002, realtime=False)
    loop.wait()
    assert loop.running and loop.ticks == 1
    loop.stop()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"period_s": 0.0}, "period_s"),
        ({"period_s": float("nan")}, "period_s"),
        ({"period_s": "fast"}, "period_s"),
        ({"period_s": 0.001, "priority": 0}, "priority"),
        ({"period_s": 0.001, "cpu": -1}, "cpu"),
        ({"period_s": 0.001, "window": 0}, "window"),
    ],
)
def test_bad_parameters_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        RateLoop(**kwargs)


_RT_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    from physai.control.rate_loop import RateLoop

    cpu = int(sys.argv[1])
    seen = {}
    loop = RateLoop(0.002, realtime=True, cpu=cpu, priority=10, name="rt")

    def tick():
        seen["policy"] = os.sched_getscheduler(0)
        seen["cpus"] = sorted(os.sched_getaffinity(0))

    stats = loop.run(tick, duration_s=0.1)
    print(json.dumps({
        "status": stats.rt_status,
        "ticks": stats.ticks,
        "policy_during": seen["policy"],
        "cpus_during": seen["cpus"],
        "policy_after": os.sched_getscheduler(0),
        "cpus_after": sorted(os.sched_getaffinity(0)),
    }))
    """
)


@linux_only
def test_realtime_status_in_a_short_lived_subprocess():
    allowed = sorted(os.sched_getaffinity(0))
    cpu = allowed[-1]
    proc = subprocess.run(
        [sys.executable, "-c", _RT_SCRIPT, str(cpu)], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    status = out["status"]

    assert 40 <= out["ticks"] <= 50
    assert status["sleep"].startswith("clock_nanosleep")
    fifo = status["sched_fifo"]
    assert fifo.startswith(("ok", "not permitted", "failed")), fifo
    if fifo.startswith("ok"):
        assert out["policy_during"] == os.SCHED_FIFO
    else:
        assert "CAP_SYS_NICE" in fifo or "failed" in fifo
    assert status["affinity"] == f"cpu {cpu}" or "refused" in status["affinity"]
    if status["affinity"] == f"cpu {cpu}":
        assert out["cpus_during"] == [cpu]
    assert status["mlockall"] == "ok" or status["mlockall"].startswith(("not permitted", "failed"))
    assert status["timer_slack"].startswith(("ok", "failed"))
    # stop() hands the thread back as it found it.
    assert out["policy_after"] == os.sched_getscheduler(0)
    assert out["cpus_after"] == allowed


_PROCESS_FIFO_SCRIPT = textwrap.dedent(
    """
    import json, os, threading
    from physai.control.rate_loop import request_process_fifo
    ready, release = threading.Event(), threading.Event()
    def worker():  # a thread that exists before the call, like DDS's after rclpy.init
        ready.set(); release.wait()
    thread = threading.Thread(target=worker); thread.start(); ready.wait()
    try:
        outcome = request_process_fifo(5)
        policies = [os.sched_getscheduler(int(t)) for t in os.listdir("/proc/self/task")]
        # read before the late thread: a joined thread's task entry can outlive its join for a moment
        late = threading.Thread(target=lambda: policies.append(os.sched_getscheduler(0))); late.start(); late.join()
    finally:
        release.set(); thread.join()
    print(json.dumps({"outcome": outcome, "policies": policies}))
    """
)


def test_process_fifo_reaches_every_thread_the_process_has_and_later_ones_inherit_it():
    proc = subprocess.run([sys.executable, "-c", _PROCESS_FIFO_SCRIPT], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    if not out["outcome"].startswith("ok"):  # no CAP_SYS_NICE here: said in words, nothing changed
        assert "CAP_SYS_NICE" in out["outcome"] and set(out["policies"]) == {os.SCHED_OTHER}
        return
    assert out["outcome"].startswith("ok (priority 5, ")
    assert len(out["policies"]) >= 3 and set(out["policies"]) == {os.SCHED_FIFO}  # all, one started after too


def test_stall_clock_leaves_out_the_excess_of_a_gap_beyond_one_period_and_counts_it():
    from physai.control import StallClock

    clock = StallClock(period_s=0.002, stall_s=0.01)
    times = [clock.tick(0.002 * k) for k in range(5)]  # on time
    assert times == pytest.approx([0.002 * k for k in range(5)]) and clock.stalls == 0
    assert clock.tick(0.008 + 0.011) == pytest.approx(0.019)  # 11 ms late by one period: jitter, not a stall
    after = clock.tick(0.019 + 0.25)  # the host did not run for 250 ms
    assert after == pytest.approx(0.019 + 0.012)  # one period + stall_s of it counted
    assert clock.stalls == 1 and clock.longest_s == pytest.approx(0.25) and clock.stalled_s == pytest.approx(0.238)
    assert clock.time(0.019 + 0.25 + 0.001) == pytest.approx(after + 0.001)  # between ticks
    clock.restart(10.0)  # a blocking start-up step: no stall
    assert clock.tick(10.002) == pytest.approx(10.002 - 0.238) and clock.stalls == 1
    assert clock.as_dict() == {"host_stalls": "1", "longest_stall_ms": "250.0"}
    with pytest.raises(ValueError, match="stall_s"):
        StallClock(0.002, stall_s=float("nan"))


def test_a_pause_between_ticks_is_a_host_stall_on_the_loops_clock():
    loop = RateLoop(0.002, realtime=False, stall_s=0.01)
    with loop:
        for _ in range(3):
            loop.wait()
        before = loop.tick_time_s
        time.sleep(0.2)  # the host (this thread) does not run
        loop.wait()
    assert loop.clock.stalls >= 1
    assert loop.tick_time_s - before <= loop.clock.bound_s + 1e-9  # the pause is left out of the clock
    stats = loop.stats()
    assert stats.host_stalls == loop.clock.stalls and stats.longest_stall_ms >= 200.0
    assert stats.as_dict()["host_stalls"] == str(loop.clock.stalls)
