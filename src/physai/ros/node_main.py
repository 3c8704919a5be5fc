"""The one `main()` every physai node shares: init, refuse bad parameters cleanly, spin, shut down in order.

A node class may define `run()` (its own control loop, run in the main thread while callbacks spin in a
second thread) and `close()` (its cleanup: stop the loop, exit motor mode, finalize a bag).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node

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
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    loop = getattr(node, "run", None)
    spinner = threading.Thread(target=executor.spin, daemon=True) if loop else None
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
