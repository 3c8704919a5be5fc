"""FieldError: the one shape of a bad-input error (robot.yaml, hardware.yaml, task YAML, fault specs).

Every such error names where the input came from, the field, the value it held and what was expected,
as one line a person can act on:

    robot_descriptions/x/robot.yaml: field 'joints[3].effort' is -1.0; expected a number > 0

Subclasses say which input it was (RobotSpecError, HardwareConfigError, TaskConfigError, FaultConfigError) so
callers can catch one kind or all of them (`except FieldError`); they are ValueErrors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class FieldError(ValueError):
    """Bad input about one field: `source`, `field`, `value` and `expected` are kept as attributes."""

    kind = "field"
    """The word before the field's name in the message ("field", "fault", …)."""

    def __init__(self, source: str | Path, field: str, value: Any, expected: str) -> None:
        self.source, self.field, self.value, self.expected = str(source), field, value, expected
        where = f"{source}: " if str(source) else ""
        super().__init__(f"{where}{self.kind} '{field}' is {value!r}; expected {expected}")
