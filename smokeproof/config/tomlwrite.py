"""Writing the suite's TOML files (``smokeproof init``, ``smokeproof snapshot --format toml``).

tomli_w writes every value; this module only lays the entries out the way the hand-written files
read: one ``[[kind]]`` block per entry, short arrays and tables on one line, a long table (twenty
columns, a response schema) as a ``[kind.key]`` section below its entry. Every document is parsed
back before it is returned: a file init writes is a file the loader reads.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from typing import Any

import tomli_w

LINE = 100


def literal(value: object) -> str:
    """``value`` as a one-line TOML value (tables inline)."""
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{key(k)} = {literal(v)}" for k, v in value.items()) + " }" if value else "{}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return tomli_w.dumps({"v": value}).removeprefix("v = ").rstrip("\n")


def key(name: str) -> str:
    """A TOML key: bare when it can be, quoted otherwise."""
    return tomli_w.dumps({name: 0}).rsplit(" = ", 1)[0]


def block(kind: str, fields: Mapping[str, Any], *, comment: str = "") -> str:
    """One ``[[kind]]`` entry; a table value too long for one line becomes a ``[kind.key]`` section."""
    lines = [f"# {line}".rstrip() for line in comment.splitlines()]
    lines.append(f"[[{kind}]]")
    sections: list[str] = []
    for name, value in fields.items():
        text = f"{key(name)} = {literal(value)}"
        if isinstance(value, Mapping) and value and len(text) > LINE:
            sections.append(_section(f"{kind}.{key(name)}", value))
        else:
            lines.append(text)
    return "\n".join(lines) + "\n" + "".join("\n" + s for s in sections)


def _section(prefix: str, table: Mapping[str, Any]) -> str:
    """``table`` as sections under ``[prefix]`` (tomli_w's layout, headers renamed)."""
    text = tomli_w.dumps({"__t": table})
    return text.replace("[__t.", f"[{prefix}.").replace("[__t]", f"[{prefix}]").replace("[[__t.", f"[[{prefix}.")


def document(*, header: str = "", top: Mapping[str, Any] | None = None, blocks: Sequence[str] = ()) -> str:
    """A whole file: the header comment, top-level keys, then the entries; checked to parse."""
    parts = ["".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())]
    if top:
        parts.append("".join(f"{key(k)} = {literal(v)}\n" for k, v in top.items()))
    parts.extend(blocks)
    text = "\n".join(part for part in parts if part)
    tomllib.loads(text)  # a layout bug must fail here, not in the user's first run
    return text


def commented(text: str) -> str:
    """``text`` with every line commented out (an entry written for a person to finish)."""
    return "".join(f"# {line}".rstrip() + "\n" for line in text.splitlines())
