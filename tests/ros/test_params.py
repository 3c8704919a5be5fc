"""Node parameters carry their field docstrings as descriptions (`ros2 param describe`), in every node."""

from __future__ import annotations

import dataclasses
import importlib

import pytest

from physai.fields import field_docs

pytestmark = pytest.mark.ros

CONFIGS = [
    ("physai.ros.sim_node", "SimNodeConfig"),
    ("physai.ros.driver_node", "DriverNodeConfig"),
    ("physai.ros.policy_node", "PolicyNodeConfig"),
    ("physai.ros.motor_sim_node", "MotorSimNodeConfig"),
    ("physai.ros.recorder_node", "RecorderNodeConfig"),
    ("physai.ros.launch_monitor", "LaunchMonitorConfig"),
]


@pytest.mark.parametrize(("module", "name"), CONFIGS, ids=[c[1] for c in CONFIGS])
def test_every_parameter_is_described_by_its_field_docstring(rclpy_context, module, name):
    from rclpy.node import Node

    from physai.ros.params import declare_parameters

    cls = getattr(importlib.import_module(module), name)
    fields = [f.name for f in dataclasses.fields(cls)]
    docs = field_docs(cls)
    assert set(docs) == set(fields), f"fields without a docstring: {set(fields) - set(docs)}"
    node = Node(f"describe_{name.lower()}")
    try:
        declare_parameters(node, cls)  # as declare_and_read does, before it validates the values
        described = {d.name: d.description for d in node.describe_parameters(fields)}
    finally:
        node.destroy_node()
    assert described == docs
    assert all(len(text) > 10 for text in described.values())
