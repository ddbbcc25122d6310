"""Files Allure reads beside the results: environment, executor (CI build) and categories.

Written at the end of the session: ``--clean-alluredir`` empties the folder at the start.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path

from smokeproof.verdict import Category

# Allure 2 reads categories.json from the results; Allure 3 reads the same rules from allurerc.mjs
# (by the category label). Every smokeproof failure message (allure-pytest's statusDetails.message:
# "smokeproof.errors.SmokeFailure: <headline>" and its sections) ends with its category section,
#
#       category:
#         Server errors (5xx)
#
# which is what the rules match. Allure 2 matches a whole message with Java's Pattern.matches, so
# each regex spans it all; re.escape's escapes (of spaces and brackets) mean the same in Java.
# The rules come in Category's own order.


def message_regex(category: Category) -> str:
    """The regex that matches, in full, a failure message whose category section names ``category``."""
    return rf"(?s).*\bcategory:\s+{re.escape(category.value)}\s*"


def categories() -> list[dict[str, object]]:
    rules: list[dict[str, object]] = [
        {"name": category.value, "matchedStatuses": ["failed"], "messageRegex": message_regex(category)} for category in Category
    ]
    rules.append({"name": "Broken checks (suite or configuration errors)", "matchedStatuses": ["broken"]})
    return rules


def executor(environ: Mapping[str, str] | None = None) -> dict[str, str] | None:
    """CI build name, number and URL from GitHub Actions' or GitLab CI's standard variables."""
    env = os.environ if environ is None else environ
    if env.get("GITHUB_ACTIONS") == "true":
        server, repo, run = env.get("GITHUB_SERVER_URL", ""), env.get("GITHUB_REPOSITORY", ""), env.get("GITHUB_RUN_ID", "")
        url = f"{server}/{repo}/actions/runs/{run}" if server and repo and run else ""
        return {
            "name": "GitHub Actions",
            "type": "github",
            "buildName": f"{env.get('GITHUB_WORKFLOW', '')} #{env.get('GITHUB_RUN_NUMBER', '')}",
            "buildOrder": env.get("GITHUB_RUN_NUMBER", ""),
            "buildUrl": url,
            "reportName": "smokeproof",
        }
    if env.get("GITLAB_CI") == "true":
        return {
            "name": "GitLab CI",
            "type": "gitlab",
            "buildName": f"{env.get('CI_PROJECT_PATH', '')} #{env.get('CI_PIPELINE_IID', '')}",
            "buildOrder": env.get("CI_PIPELINE_IID", ""),
            "buildUrl": env.get("CI_PIPELINE_URL", ""),
            "reportName": "smokeproof",
        }
    return None


def write(results: Path, properties: Mapping[str, str], scrub: Callable[[str], str]) -> None:
    """environment.properties, executor.json and categories.json into the results folder."""
    results.mkdir(parents=True, exist_ok=True)
    lines = [f"{key.replace(' ', '_')}={scrub(_property(value))}" for key, value in properties.items()]
    (results / "environment.properties").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (results / "categories.json").write_text(json.dumps(categories(), indent=1))
    build = executor()
    if build is not None:
        (results / "executor.json").write_text(scrub(json.dumps(build, indent=1)))


def _property(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", " ").replace("=", "\\=").replace(":", "\\:")
