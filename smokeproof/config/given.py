"""Revisions given on the command line or through the environment: given but empty is bad input.

CI turns a missing secret or an unset pipeline variable into an empty string: ``--expected-revision=``
or ``SMOKEPROOF_EXPECTED_REVISION=""``. Taken as "not given", the pre-deploy gate would fall back to
the environment's own source (the old app's health URL) and pass; taken as given, it stops the run
with exit status 4 naming the option, as an empty secret does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from smokeproof.errors import UsageError

WHY = "(a CI variable or secret that is not defined arrives as an empty string)"


def revision(option: str | None, *, flag: str, variable: str, environ: Mapping[str, str] | None = None) -> str | None:
    """``flag``'s value, else ``$variable``'s, else None; either given but empty (or blank) is a UsageError."""
    if option is not None:
        if not option.strip():
            raise UsageError(f"{flag} is given but empty: pass a revision, or leave the option out {WHY}")
        return option
    value = (os.environ if environ is None else environ).get(variable)
    if value is not None and not value.strip():
        raise UsageError(f"environment variable ${variable} is set but empty: set a revision, or unset it {WHY}")
    return value
