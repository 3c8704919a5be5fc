"""The documentation of dataclass fields: the string literal written under each field (PEP 257 attribute docs).

Config dataclasses document each field in place::

    rate_hz: float = 500.0
    \"\"\"Driver loop rate (Hz).\"\"\"

`field_docs` reads those strings back from the class source, so ROS parameter descriptions (`ros2 param
describe`), launch-argument help and CLI help are the docstrings themselves, never a copy.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import functools
import inspect
import textwrap
from typing import Any, TypeVar

T = TypeVar("T")


@functools.cache
def field_docs(cls: type) -> dict[str, str]:
    """{field name: its docstring, whitespace-collapsed} for a class and its bases (the class's own win)."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__[:-1]):  # object last; subclasses override their bases
        try:
            source = textwrap.dedent(inspect.getsource(klass))
        except (OSError, TypeError):  # built-in or generated at run time: no source
            continue
        body = ast.parse(source).body[0]
        if not isinstance(body, ast.ClassDef):
            continue
        for node, following in zip(body.body, body.body[1:], strict=False):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                docs[node.target.id] = " ".join(following.value.value.split())
    return docs


_SCALARS = (bool, int, float, str)


def add_config_arguments(
    parser: argparse.ArgumentParser, cls: type, *, positional: tuple[str, ...] = (), skip: tuple[str, ...] = ()
) -> list[str]:
    """Add one option per scalar field of dataclass `cls` (`n_envs` → `--n-envs`); the names added, in order.

    Defaults are the dataclass's and help is the field's docstring with its default, so `--help` cannot drift
    from the config. `positional` fields become positional arguments; a bool defaulting to False is a flag;
    fields of other types (nested configs, mappings) are left to the caller, as are those in `skip`.
    """
    docs = field_docs(cls)
    names = []
    for f in dataclasses.fields(cls):
        default = f.default
        if f.name in skip or default is dataclasses.MISSING or not isinstance(default, (*_SCALARS, type(None))):
            continue
        kind = next((t for t in (str, int, float) if t.__name__ in str(f.type)), str)
        doc = docs.get(f.name, "")
        if f.name in positional:
            parser.add_argument(f.name, help=f"{doc} (default: {default})", nargs="?", default=default, type=kind)
        elif isinstance(default, bool) and not default:
            parser.add_argument(f"--{f.name.replace('_', '-')}", action="store_true", help=doc)
        elif isinstance(default, bool):
            flag = f"--no-{f.name.replace('_', '-')}"
            parser.add_argument(flag, dest=f.name, action="store_false", help=f"not: {doc}")
        else:
            option = f"--{f.name.replace('_', '-')}"
            shown = "none" if default is None else default
            parser.add_argument(option, type=kind, default=default, help=f"{doc} (default: {shown})")
        names.append(f.name)
    return names


def config_from_arguments(cls: type[T], args: argparse.Namespace, names: list[str], **more: Any) -> T:
    """Build `cls` from the parsed options `names` (see add_config_arguments) plus keyword fields `more`."""
    return cls(**{name: getattr(args, name) for name in names}, **more)
