"""Node parameters declared from a dataclass (defaults, docstrings) and read back validated.

A wrong type or value in a params YAML becomes one error naming the node, the parameter, the value and
what was expected; the node then exits before touching any actuator.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node

from physai.fields import field_docs

C = TypeVar("C")


class ParameterError(ValueError):
    """A node parameter with a wrong type or value."""


def declare_and_read(node: Node, cls: type[C]) -> C:
    """Declare every field of dataclass `cls` as a parameter (`declare_parameters`) and build `cls` from them."""
    values = declare_parameters(node, cls)
    try:
        return cls(**values)
    except (ValueError, TypeError) as err:
        raise ParameterError(f"{node.get_name()}: {err}") from None


def declare_parameters(node: Node, cls: type) -> dict[str, Any]:
    """Declare one parameter per field of dataclass `cls`; {name: value as given or defaulted}.

    Each parameter gets the field's default and, as its description (`ros2 param describe`), the field's
    docstring (physai.fields). A value of the wrong type raises ParameterError naming node, parameter and
    the expected type.
    """
    values: dict[str, Any] = {}
    docs = field_docs(cls)
    for field in dataclasses.fields(cls):
        default = field.default if field.default is not dataclasses.MISSING else field.default_factory()  # type: ignore[misc]
        descriptor = ParameterDescriptor(name=field.name, description=docs.get(field.name, ""))
        try:
            value = node.declare_parameter(field.name, default, descriptor).value
        except Exception as err:  # rclpy raises InvalidParameterTypeException and friends
            raise ParameterError(
                f"{node.get_name()}: parameter '{field.name}': {err}; expected a {type(default).__name__} like {default!r}"
            ) from None
        if isinstance(default, float) and isinstance(value, int):
            value = float(value)
        values[field.name] = value
    return values
