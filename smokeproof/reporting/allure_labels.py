"""Allure labels and attachments for one verdict, written straight onto the running test's result.

Called from the test body once the result is in (never inside the concurrent probe tasks, where
Allure's thread-local step stack would nest steps under the wrong test). The labels and parameters
are the ones ``allure.dynamic`` would add (epic, feature, story, severity, category, expected and
actual), set on the result object allure-pytest keeps for the running test rather than through
``allure.dynamic``: each of those calls is a hook dispatch through allure-commons' plugin manager
that looks the result up again, ten per check, a tenth of an endpoint test's time at N = 1000.
Without ``--alluredir`` there is no listener and nothing to record.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from allure_commons.types import AttachmentType, LabelType

from smokeproof.verdict import Verdict

CATEGORY_LABEL = "smokeproof_category"
DEGRADED_LABEL = "smokeproof_degraded"  # a check that passed close to failing: why
KNOWN_LABEL = "smokeproof_known"  # a failure a known-issue entry excuses: its ticket (the writer marks it known)
NOTE_LABEL = "smokeproof_note"  # a line the writer puts first in the result's message (an expired entry, a fixed one)
WINDOW_LABEL = "smokeproof_window"  # the measured work's start-stop in epoch ms; the Allure writer moves it to start/stop
LISTENER = "allure_listener"  # the name allure-pytest registers its listener under
# Set while a verdict's attachments (redacted when they were made) are written: the Allure writer's last scrub
# passes them by, and spends its time on what allure-pytest attaches itself (captured output).
_redacted = threading.local()


def attaching_redacted() -> bool:
    """Whether the attachment being written now is a verdict's, redacted already (on the test's thread)."""
    return getattr(_redacted, "on", False)


def listener(config: pytest.Config) -> Any | None:
    """allure-pytest's listener in this run (None without ``--alluredir``)."""
    return config.pluginmanager.getplugin(LISTENER)


def record(allure_listener: Any | None, verdict: Verdict, *, failing: bool | None = None) -> None:
    """Label the running test (title, epic, feature, story, severity, category) and attach the verdict's texts.

    ``failing``: whether the test fails on it (default: the verdict is not ok; a degraded verdict fails too
    under ``--fail-on-degraded``, in its ``degraded_category``).
    """
    if allure_listener is None:
        return
    reporter = allure_listener.allure_logger
    result = reporter.get_test(None)
    if result is None:
        return
    from allure_commons.model2 import Label, Parameter
    from allure_commons.utils import represent, uuid4

    result.name = verdict.check
    labels = [(LabelType.EPIC, verdict.area.value), (LabelType.FEATURE, verdict.feature), (LabelType.STORY, verdict.story)]
    labels.append((LabelType.SEVERITY, verdict.severity.value))  # Severity is Allure's own scale
    category = verdict.category or (verdict.degraded_category if verdict.degraded else None)
    if category is not None and (not verdict.ok if failing is None else failing):
        labels += [(CATEGORY_LABEL, category.value), (LabelType.TAG, category.value)]
    if verdict.degraded:
        labels += [(DEGRADED_LABEL, verdict.degraded), (LabelType.TAG, "degraded")]
    if verdict.window is not None:
        start, stop = verdict.window
        labels.append((WINDOW_LABEL, f"{round(start * 1000)}-{round(stop * 1000)}"))
    result.labels.extend(Label(name=name, value=value) for name, value in labels if value)
    # "actual" is shown, but not part of the check's identity: the measured value changes on every run.
    for name, value, excluded in (("expected", verdict.expected, None), ("actual", verdict.actual, True)):
        existing = next((p for p in result.parameters if p.name == name), None)
        if existing is not None:
            existing.value = represent(value)
        else:
            result.parameters.append(Parameter(name=name, value=represent(value), excluded=excluded))
    _redacted.on = True
    try:
        for attachment in verdict.attachments:
            kind = AttachmentType.JSON if attachment.mime == "application/json" else AttachmentType.TEXT
            reporter.attach_data(uuid4(), attachment.body, name=attachment.name, attachment_type=kind)
    finally:
        _redacted.on = False


def mark_known(allure_listener: Any | None, ticket: str, issue: str) -> None:
    """Mark the running test's result as a known issue: its ticket as a label and a link to the issue.

    The Allure writer turns the label into Allure's own mark (a failure with ``statusDetails.known``),
    which Allure 3 lists as a known issue and leaves out of its failure counts and quality gate.
    """
    if allure_listener is None:
        return
    result = allure_listener.allure_logger.get_test(None)
    if result is None:
        return
    from allure_commons.model2 import Label, Link

    result.labels += [Label(name=KNOWN_LABEL, value=ticket), Label(name=LabelType.TAG, value="known issue")]
    if issue.startswith(("http://", "https://")):
        result.links.append(Link(type="issue", url=issue, name=ticket))


def note(allure_listener: Any | None, line: str) -> None:
    """Put ``line`` first in the running test's failure message (the writer moves it there from a label)."""
    if allure_listener is None:
        return
    result = allure_listener.allure_logger.get_test(None)
    if result is not None:
        from allure_commons.model2 import Label

        result.labels.append(Label(name=NOTE_LABEL, value=line))


def attach(allure_listener: Any | None, name: str, body: str) -> None:
    """A text attachment (already redacted) on the running test's result, if there is one."""
    if allure_listener is None:
        return
    reporter = allure_listener.allure_logger
    if reporter.get_test(None) is None:
        return
    from allure_commons.utils import uuid4

    reporter.attach_data(uuid4(), body, name=name, attachment_type=AttachmentType.TEXT)
