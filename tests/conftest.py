"""Shared fixtures. DDS stays on this host in every test (DESIGN.md runtime rules), and so does onnxruntime."""

import os

os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
os.environ.setdefault("MUJOCO_GL", "egl")
# Before any test module imports onnxruntime (some do before physai, which sets the same): its Linux telemetry
# otherwise resolves and posts to mobile.events.data.microsoft.com (see physai/__init__.py).
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")


_domain = None


def pytest_configure(config):
    """One DDS domain for the whole session, leased so no physai run on this host shares it (nor a second
    session): every node the tests launch, and the tests' own rclpy nodes, are on it."""
    global _domain
    if os.environ.get("PHYSAI_TEST_DOMAIN_ID"):
        os.environ["ROS_DOMAIN_ID"] = os.environ["PHYSAI_TEST_DOMAIN_ID"]
        return
    from physai.bringup.domain import own_domain

    _domain = own_domain()
    _domain.__enter__()


def pytest_unconfigure(config):
    if _domain is not None:
        _domain.__exit__(None, None, None)
