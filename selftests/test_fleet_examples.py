"""The fleet recipes as a team copies them: CI matrices, the Dockerfile, the Kubernetes manifests.

No cluster or Docker engine runs here: the manifests are parsed and checked for what a cluster
would reject or what would make them unsafe (a retried failing check, a root container, a secret
in plain text, a command other than the one the README documents).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from .suite import REPO

yaml = pytest.importorskip("yaml")
README = (REPO / "README.md").read_text()
KUBERNETES = REPO / "examples" / "kubernetes"
IMAGE_COMMAND = "pytest --env=prod"


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def manifests() -> dict[str, dict[str, Any]]:
    found = {}
    for path in sorted(KUBERNETES.glob("*.yaml")):
        for document in documents(path):
            assert {"apiVersion", "kind", "metadata"} <= document.keys(), path.name
            found[document["kind"]] = document
    return found


def pod_spec(manifest: dict[str, Any]) -> dict[str, Any]:
    """Where each kind keeps its pod: Job, CronJob, Argo Rollouts' job provider."""
    kind, spec = manifest["kind"], manifest["spec"]
    if kind == "Job":
        job = spec
    elif kind == "CronJob":
        job = spec["jobTemplate"]["spec"]
    else:
        [metric] = spec["metrics"]
        job = metric["provider"]["job"]["spec"]
    assert job["backoffLimit"] == 0 and job["activeDeadlineSeconds"] > 0  # a failing check is never retried into a pass
    pod: dict[str, Any] = job["template"]["spec"]
    return pod


def test_readme_documents_the_image_command() -> None:
    assert f"```sh\n{IMAGE_COMMAND}\n```" in README


def test_dockerfile_runs_the_documented_command_as_non_root() -> None:
    text = (REPO / "Dockerfile").read_text()
    entry = re.search(r'^ENTRYPOINT \["(.+)"\]$', text, re.M)
    cmd = re.search(r"^CMD \[(.+)\]$", text, re.M)
    user = re.search(r"^USER (\d+)$", text, re.M)
    assert entry and cmd and user, "Dockerfile: ENTRYPOINT, CMD and a numeric USER are required"
    arguments = [a.strip().strip('"') for a in cmd.group(1).split(",")]
    assert " ".join([entry.group(1), *arguments]) == IMAGE_COMMAND
    assert int(user.group(1)) != 0
    assert "--constraint requirements.lock" in text  # the pinned versions, nothing else
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".venv", "node_modules", "reports", "demo", "selftests"} <= set(ignored)


@pytest.mark.parametrize("kind", ["Job", "CronJob", "AnalysisTemplate"])
def test_kubernetes_manifest(kind: str) -> None:
    found = manifests()
    secret = found["Secret"]
    pod = pod_spec(found[kind])
    assert pod["restartPolicy"] == "Never" and pod["securityContext"]["runAsNonRoot"] is True
    [container] = pod["containers"]
    assert " ".join([*container["command"], *container["args"]]) == IMAGE_COMMAND
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    from_secret = {
        e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "secretKeyRef" in e.get("valueFrom", {})
    }
    needed = set(re.findall(r"\$\{([A-Z_]+)\}", (REPO / "environments" / "prod.toml").read_text()))
    assert needed <= from_secret.keys(), f"{kind}: {needed - from_secret.keys()} not from the Secret"
    for ref in from_secret.values():
        assert ref["name"] == secret["metadata"]["name"] and ref["key"] in secret["stringData"]
    assert not [e for e in container["env"] if e["name"] in needed and "value" in e]  # no secret in plain text
    if kind == "AnalysisTemplate":
        [metric] = found[kind]["spec"]["metrics"]
        assert found[kind]["apiVersion"].startswith("argoproj.io/") and metric["failureLimit"] == 0
        assert "job" in metric["provider"]
    if kind == "CronJob":
        assert found[kind]["spec"]["concurrencyPolicy"] == "Forbid" and found[kind]["spec"]["schedule"].count(" ") == 4


def commands(node: object) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("run", "script", "before_script", "after_script"):
                found.extend(value.splitlines() if isinstance(value, str) else value)
            else:
                found.extend(commands(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(commands(item))
    return found


def test_github_matrix_fans_out_and_merges() -> None:
    jobs = yaml.safe_load((REPO / "examples" / "github-actions-matrix.yml").read_text())["jobs"]
    smoke, report = jobs["smoke"], jobs["report"]
    assert smoke["strategy"]["fail-fast"] is False and len(smoke["strategy"]["matrix"]["env"]) >= 2
    assert smoke["environment"] == "${{ matrix.env }}"
    uploads = [s for s in smoke["steps"] if s.get("uses", "").startswith("actions/upload-artifact")]
    assert uploads and "${{ matrix.env }}" in uploads[0]["with"]["name"] and "summary.json" in uploads[0]["with"]["path"]
    assert report["needs"] == "smoke" and report["if"] == "always()"
    assert '.venv/bin/pytest --env="${{ matrix.env }}"' in commands(smoke)
    assert ".venv/bin/smokeproof report jobs/*" in commands(report)


def test_gitlab_matrix_fans_out_and_merges() -> None:
    pipeline = yaml.safe_load((REPO / "examples" / "gitlab-ci-matrix.yml").read_text())
    smoke, report = pipeline["smoke"], pipeline["report"]
    [axis] = smoke["parallel"]["matrix"]
    assert len(axis["SMOKEPROOF_ENV"]) >= 2 and smoke["environment"]["name"] == "$SMOKEPROOF_ENV"
    assert smoke["artifacts"]["when"] == "always" and smoke["artifacts"]["paths"] == ["jobs/$SMOKEPROOF_ENV/"]
    assert report["when"] == "always" and report["needs"][0]["job"] == "smoke"
    assert '.venv/bin/pytest --env="$SMOKEPROOF_ENV"' in commands(smoke)
    assert ".venv/bin/smokeproof report jobs/*" in commands(report)


def test_matrix_commands_are_documented() -> None:
    assert ".venv/bin/smokeproof report jobs/*" in README
    assert "examples/github-actions-matrix.yml" in README and "examples/gitlab-ci-matrix.yml" in README


def test_github_shards_split_one_environment_and_merge() -> None:
    jobs = yaml.safe_load((REPO / "examples" / "github-actions-shards.yml").read_text())["jobs"]
    smoke, report = jobs["smoke"], jobs["report"]
    shards = smoke["strategy"]["matrix"]["shard"]
    assert smoke["strategy"]["fail-fast"] is False and shards == list(range(1, len(shards) + 1))
    [run] = [line for line in commands(smoke) if "pytest" in line]
    assert f"--shard=${{{{ matrix.shard }}}}/{len(shards)}" in run and run.startswith(".venv/bin/pytest --env=")
    uploads = [s for s in smoke["steps"] if s.get("uses", "").startswith("actions/upload-artifact")]
    assert "${{ matrix.shard }}" in uploads[0]["with"]["name"] and "summary.json" in uploads[0]["with"]["path"]
    assert report["needs"] == "smoke" and report["if"] == "always()"
    assert ".venv/bin/smokeproof report jobs/*" in commands(report)
    cached = [s["with"]["path"] for s in report["steps"] if s.get("uses", "").startswith("actions/cache")]
    assert cached == ["reports/history", "reports/history"]  # the merge keeps the history, not the shards
    assert not [s for s in smoke["steps"] if s.get("uses", "").startswith("actions/cache")]


def test_kubernetes_indexed_job_shards_and_merges() -> None:
    found = documents(KUBERNETES / "indexed-job.yaml")
    claim, shards, merge = found
    assert claim["kind"] == "PersistentVolumeClaim" and "ReadWriteMany" in claim["spec"]["accessModes"]
    spec = shards["spec"]
    assert spec["completionMode"] == "Indexed" and spec["completions"] == spec["parallelism"]
    count = spec["completions"]
    for job in (shards, merge):
        pod = pod_spec(job)
        assert pod["restartPolicy"] == "Never" and pod["securityContext"]["runAsNonRoot"] is True
        [container] = pod["containers"]
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert volumes["shared"]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
        run_id = {e["name"]: e.get("value") for e in container["env"]}["RUN_ID"]
        assert run_id == "RUN-ID"  # one value for both Jobs, set per run
    [script] = pod_spec(shards)["containers"][0]["args"]
    assert f"pytest --env=prod --shard=$((JOB_COMPLETION_INDEX+1))/{count}" in script
    assert "exit $status" in script  # the pod's status is the checks', after its reports are copied
    [merging] = pod_spec(merge)["containers"][0]["args"]
    assert "smokeproof report " + " ".join(f"shard-{k}" for k in range(1, count + 1)) in merging
    secret = manifests()["Secret"]
    env = pod_spec(shards)["containers"][0]["env"]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in env if "secretKeyRef" in e.get("valueFrom", {})}
    assert {"PROD_DATABASE_URL", "SMOKE_TOKEN"} <= refs.keys()
    assert all(ref["name"] == secret["metadata"]["name"] for ref in refs.values())


def test_shard_examples_are_documented() -> None:
    assert "examples/github-actions-shards.yml" in README and "examples/kubernetes/indexed-job.yaml" in README
