"""Node parameters declared from a dataclass (defaults, docstrings) and read back validated.

A wrong type or value in a params YAML becomes one error naming the node, the parameter, the value and
what was expected; the node then exits before touching any actuator.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from rclpy.node import Node

C = TypeVar("C")


class ParameterError(ValueError):
    """A node parameter with a wrong type or value."""


def declare_and_read(node: Node, cls: type[C]) -> C:
    """Declare every field of dataclass `cls` as a parameter (its default as the default) and build `cls`."""
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        default = field.default if field.default is not dataclasses.MISSING else field.default_factory()  # type: ignore[misc]
        try:
            value = node.declare_parameter(field.name, default).value
        except Exception as err:  # rclpy raises InvalidParameterTypeException and friends
            raise ParameterError(
                f"{node.get_name()}: parameter '{field.name}': {err}; expected a {type(default).__name__} like {default!r}"
            ) from None
        if isinstance(default, float) and isinstance(value, int):
            value = float(value)
        values[field.name] = value
    try:
        return cls(**values)
    except (ValueError, TypeError) as err:
        raise ParameterError(f"{node.get_name()}: {err}") from None
