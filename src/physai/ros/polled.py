"""Subscriptions read by a control loop's own thread instead of the executor (rclcpp's `Subscription::take`).

A node whose RateLoop runs beside an executor thread pays for every executor callback twice: the executor's
Python holds the GIL for a few hundred µs per message, and a loop deadline that falls in that window waits for
the GIL. A subscription in a `PolledGroup` is never waited on or run by any executor; the loop drains it with
`take_all(sub)` at the start of its tick, so the messages cost the loop a C call each and nothing else.

    sub = node.create_subscription(JointState, "/joint_commands", on_command, qos.COMMAND,
                                   callback_group=PolledGroup())
    ...
    for msg in take_all(sub):        # in the loop thread, once per tick
        on_command(msg)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rclpy.callback_groups import CallbackGroup
from rclpy.subscription import Subscription


class PolledGroup(CallbackGroup):
    """A callback group no executor may run: its entities are left to whoever polls them."""

    def can_execute(self, entity: Any) -> bool:
        """Never: the executor leaves these entities out of its wait set."""
        return False

    def beginning_execution(self, entity: Any) -> bool:
        """Never: nothing of this group runs in an executor."""
        return False

    def ending_execution(self, entity: Any) -> None:
        """Nothing to release."""


def take_all(sub: Subscription) -> Iterator[Any]:
    """Every message waiting on `sub`, oldest first, without blocking (none: nothing is yielded)."""
    while True:
        with sub.handle:
            taken = sub.handle.take_message(sub.msg_type, sub.raw)
        if taken is None:
            return
        yield taken[0]
