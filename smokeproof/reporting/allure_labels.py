"""Allure labels and attachments for one verdict.

Called from the test body once the result is in (never inside the concurrent probe tasks, where
Allure's thread-local step stack would nest steps under the wrong test).
"""

from __future__ import annotations

import allure

from smokeproof.verdict import Verdict

CATEGORY_LABEL = "smokeproof_category"
WINDOW_LABEL = "smokeproof_window"  # the measured work's start-stop in epoch ms; the Allure writer moves it to start/stop
SEVERITIES = {level.value: level for level in allure.severity_level}


def record(verdict: Verdict) -> None:
    """Label the running test (epic, feature, story, severity, category) and attach the verdict's texts."""
    allure.dynamic.title(verdict.check)
    allure.dynamic.epic(verdict.area.value)
    if verdict.feature:
        allure.dynamic.feature(verdict.feature)
    if verdict.story:
        allure.dynamic.story(verdict.story)
    allure.dynamic.severity(SEVERITIES.get(verdict.severity, allure.severity_level.NORMAL))
    allure.dynamic.parameter("expected", verdict.expected)
    # Shown, but not part of the check's identity: the measured value changes on every run.
    allure.dynamic.parameter("actual", verdict.actual, excluded=True)
    if verdict.category is not None and not verdict.ok:
        allure.dynamic.label(CATEGORY_LABEL, verdict.category.value)
        allure.dynamic.tag(verdict.category.value)
    if verdict.window is not None:
        start, stop = verdict.window
        allure.dynamic.label(WINDOW_LABEL, f"{round(start * 1000)}-{round(stop * 1000)}")
    for attachment in verdict.attachments:
        kind = allure.attachment_type.JSON if attachment.mime == "application/json" else allure.attachment_type.TEXT
        allure.attach(attachment.body, name=attachment.name, attachment_type=kind)
