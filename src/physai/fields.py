"""The documentation of dataclass fields: the string literal written under each field (PEP 257 attribute docs).

Config dataclasses document each field in place::

    rate_hz: float = 500.0
    \"\"\"Driver loop rate (Hz).\"\"\"

`field_docs` reads those strings back from the class source, so ROS parameter descriptions (`ros2 param
describe`), launch-argument help and CLI help are the docstrings themselves, never a copy.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap


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
