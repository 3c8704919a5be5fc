"""Fixtures for tests with real rclpy nodes over Fast DDS, confined to this host and to a test-only domain."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator

import pytest

from tests.ros.rosprobe import Probe

# One DDS domain per test session, so parallel runs on the machine never see each other's nodes.
os.environ["ROS_DOMAIN_ID"] = os.environ.get("PHYSAI_TEST_DOMAIN_ID", str(random.randint(100, 200)))
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
