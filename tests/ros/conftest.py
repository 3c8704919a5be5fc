"""Fixtures for tests with real rclpy nodes over Fast DDS, confined to this host and to a test-only domain."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.ros.rosprobe import Probe

# The session's own DDS domain is leased in tests/conftest.py (physai.bringup.domain.own_domain).
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"


@pytest.fixture(scope="session")
def rclpy_context() -> Iterator[None]:
    import rclpy
    from rclpy.signals import SignalHandlerOptions

    rclpy.init(signal_handler_options=SignalHandlerOptions.NO)  # leave SIGINT/SIGTERM to pytest and other tests
    yield
    rclpy.try_shutdown()


@pytest.fixture
def probe(rclpy_context: None) -> Iterator[Probe]:
    p = Probe()
    yield p
    p.close()
