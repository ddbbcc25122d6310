"""Allure labels and attachments for one verdict (stub: the reporting work fills this in)."""

from __future__ import annotations

from smokeproof.verdict import Verdict


def record(verdict: Verdict) -> None:
    """Label the running test (epic, feature, story, severity) and attach the verdict's texts.

    Called from the test body after the result is in, never inside concurrent tasks.
    """
    del verdict
