"""The one `main()` every physai node shares: init, refuse bad parameters cleanly, spin, shut down in order.

A node class may define `run()` (its own control loop, run in the main thread while callbacks spin in a
second thread) and `close()` (its cleanup: stop the loop, exit motor mode, finalize a bag). A node whose loop
runs at SCHED_FIFO sets `callback_priority` (1–99, below its loop's): the callback thread then runs at
SCHED_FIFO too, so it is never preempted by ordinary processes while it holds the GIL the loop is waiting
for (a priority inversion that stalled 500 Hz loops for tens of ms on a busy 2-core machine).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node

from physai.control.rate_loop import FIFO_PRIORITY_ENV, request_process_fifo, request_sched_fifo

CALLBACK_PRIORITY = 70
"""SCHED_FIFO priority of the callback thread of a node whose loop runs at RateLoop's default 80."""

STARTUP_ERRORS = (ValueError, FileNotFoundError, FileExistsError, OSError)
"""Errors that mean "this configuration cannot run": reported in one line, exit code 1."""


def run_node(name: str, factory: Callable[[], Node], args: list[str] | None = None) -> None:
    """Create the node, run it until shutdown (Ctrl-C, SIGTERM, its own end), clean up; exits the process."""
    rclpy.init(args=args)
    try:
        node = factory()
    except STARTUP_ERRORS as err:
        print(f"{name}: refusing to start: {err}", file=sys.stderr)
        rclpy.try_shutdown()
        sys.exit(1)
    except Exception:
        if rclpy.ok():
            raise
        rclpy.try_shutdown()  # SIGINT/SIGTERM while it started: stopped before it did anything
        sys.exit(0)
    process_priority = int(os.environ.get(FIFO_PRIORITY_ENV) or 0)
    if process_priority > 0:
        outcome = request_process_fifo(process_priority)
        if not outcome.startswith("ok"):
            print(f"{name}: SCHED_FIFO {process_priority} for the process {outcome}", file=sys.stderr)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    loop = getattr(node, "run", None)
    priority = int(getattr(node, "callback_priority", 0))
    spinner = threading.Thread(target=_spin, args=(executor, priority), daemon=True) if loop else None
    code = 0
    try:
        if spinner is not None:
            spinner.start()
            loop()
        else:
            executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except RuntimeError as err:  # a node's run() gives up (e.g. motors that never answer)
        print(f"{name}: {err}", file=sys.stderr)
        code = 1
    finally:
        close = getattr(node, "close", None)
        if close is not None:
            close()
        executor.shutdown(timeout_sec=2.0)  # ends spin() before the node goes away
        if spinner is not None:
            spinner.join(timeout=2.0)
        node.destroy_node()
        rclpy.try_shutdown()
    sys.exit(code)


def _spin(executor: SingleThreadedExecutor, priority: int) -> None:
    """Spin the callbacks, at SCHED_FIFO `priority` when one is given (and permitted)."""
    if priority > 0:
        request_sched_fifo(priority)
    with contextlib.suppress(ExternalShutdownException):  # shutdown while it waits: the end, not an error
        executor.spin()
