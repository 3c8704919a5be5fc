"""Errors of physai.contract: one message that names the field (or the mismatch), the value and what was expected."""

from __future__ import annotations

from typing import Any


class ContractError(ValueError):
    """A policy contract that is malformed, invalid or missing.

    Errors about one field carry `field`, `value` and `expected`; their message reads
    "policy contract field 'kp[3]' is -1.0; expected a finite number ≥ 0".
    """

    field: str | None = None
    """Dotted path of the offending field (e.g. `observation[2].name`), or None for errors not about one field."""
    value: Any = None
    """The offending value."""
    expected: str | None = None
    """What the field should have held."""

    @classmethod
    def for_field(cls, field: str, value: Any, expected: str, *, source: str | None = None) -> ContractError:
        """An error about one field, optionally prefixed with where the contract came from (a file path)."""
        prefix = f"{source}: " if source else ""
        err = cls(f"{prefix}policy contract field '{field}' is {value!r}; expected {expected}")
        err.field, err.value, err.expected = field, value, expected
        return err

    def nested(self, prefix: str) -> ContractError:
        """The same field error with its field path under `prefix` (e.g. `observation[2]`)."""
        if self.field is None:
            return self
        return type(self).for_field(f"{prefix}.{self.field}", self.value, self.expected or "")


class ContractMismatch(ContractError):  # noqa: N818 (the name reads as what it is)
    """A valid contract that does not fit a robot (or a policy graph); `what` names the mismatch."""

    def __init__(self, what: str, message: str) -> None:
        self.what = what
        """Short tag of the mismatch: robot, action_size, missing_joint, joint_order, default_pos, obs_dim, ..."""
        super().__init__(message)


class NoContractError(ContractError):
    """A policy file (or metadata map) without the physai contract key."""
