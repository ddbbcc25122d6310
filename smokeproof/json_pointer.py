"""RFC 6901 JSON pointers into an answer (``/alembic_revision``, ``/user/token``), resolved by ``jsonpointer``.

Shared by the token requests, the ``[revision] url`` source and the wait for a rolling deploy. The
messages never quote the document: it may be a token endpoint's answer (``jsonpointer``'s own
errors print it whole).
"""

from __future__ import annotations

from jsonpointer import EndOfList, JsonPointer, JsonPointerException


def resolve(document: object, pointer: str) -> object:
    """The value at ``pointer``; ValueError for a malformed pointer, LookupError when the answer has nothing there."""
    try:
        parsed = JsonPointer(pointer)
    except JsonPointerException:
        raise ValueError(f"JSON pointer {pointer!r} is not an RFC 6901 pointer (it starts with '/')") from None
    try:
        value = parsed.resolve(document)
    except JsonPointerException:
        raise LookupError(f"JSON pointer {pointer} not found in the answer") from None
    if isinstance(value, EndOfList):  # "/list/-": the position after the last element, not a value
        raise LookupError(f"JSON pointer {pointer} not found in the answer")
    return value
