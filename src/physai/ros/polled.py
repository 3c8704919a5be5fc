"""Subscriptions a loop polls itself instead of the executor (rclcpp's `Subscription::take`); readers' wait.

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

import time
from collections.abc import Iterator, Sequence
from typing import Any

from rclpy.callback_groups import CallbackGroup
from rclpy.node import Node
from rclpy.publisher import Publisher
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
    for message, _ in take_all_with_info(sub):
        yield message


def take_all_with_info(sub: Subscription) -> Iterator[tuple[Any, dict[str, int]]]:
    """(message, info) of every message waiting on `sub`, oldest first.

    info has rmw's `source_timestamp` (the publisher's clock when it wrote the message, ns since the epoch) and
    `received_timestamp`.
    """
    while True:
        with sub.handle:
            taken = sub.handle.take_message(sub.msg_type, sub.raw)
        if taken is None:
            return
        yield taken


def wait_for_subscribers(
    expected: Sequence[tuple[Publisher, int]], timeout_s: float = 30.0
) -> list[tuple[Publisher, int]]:
    """Block until each publisher has its count of matched subscribers (discovery takes a moment), or `timeout_s`.

    Start-up ordering for loops that must not run ahead of their readers (a policy, a recorder that must see sim
    time 0). Returns the (publisher, count) pairs still short when the time ran out (empty: all matched).
    """
    deadline = time.monotonic() + timeout_s
    while short := [(p, n) for p, n in expected if p.get_subscription_count() < n]:
        if time.monotonic() > deadline:
            return short
        time.sleep(0.01)
    return []


def publisher_of(node: Node, topic: str, parameter: str) -> Publisher:
    """`node`'s publisher of `topic`, e.g. the one whose readers a start-up waits for.

    Raises a ValueError naming `parameter` and the node's topics when it publishes no such topic.
    """
    found = {p.topic_name: p for p in node.publishers}
    if topic not in found:
        raise ValueError(
            f"parameter '{parameter}' is {topic!r}; expected a topic this node publishes: {', '.join(found)}"
        )
    return found[topic]
