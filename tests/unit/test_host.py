"""physai.bringup.host: the softirq threads run at SCHED_FIFO inside the block and get their old policy back."""

import os
import sys

import pytest

from physai.bringup.host import SOFTIRQ_PRIORITY, softirq_threads, softirq_threads_fifo

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux scheduling API")


def _policies() -> dict[int, tuple[int, int]]:
    return {pid: (os.sched_getscheduler(pid), os.sched_getparam(pid).sched_priority) for pid in softirq_threads()}


def test_one_softirq_thread_per_cpu_is_found():
    names = sorted(softirq_threads().values())
    assert names == sorted(f"ksoftirqd/{cpu}" for cpu in range(os.cpu_count() or 1))


def test_softirq_threads_are_fifo_inside_and_restored_after():
    before = _policies()
    with softirq_threads_fifo() as outcome:
        inside = _policies()
    assert _policies() == before
    if outcome.startswith("left at normal priority"):  # no CAP_SYS_NICE: nothing may have changed
        assert "CAP_SYS_NICE" in outcome and inside == before
        pytest.skip(outcome)
    assert outcome.endswith(f"at SCHED_FIFO {SOFTIRQ_PRIORITY}")
    assert set(inside.values()) == {(os.SCHED_FIFO, SOFTIRQ_PRIORITY)}


def test_nested_blocks_restore_the_outer_setting():
    before = _policies()
    with softirq_threads_fifo(80):
        outer = _policies()
        with softirq_threads_fifo(90):
            pass
        assert _policies() == outer
    assert _policies() == before
