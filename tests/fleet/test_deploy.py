"""deploy/: the Kubernetes CronJob (validated against the Kubernetes schema with
kubernetes-validate; no cluster here), the GitHub Actions workflow (actionlint), and the
Dockerfile's user, all consistent with each other and with what the pods run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from xfail_grabber.fleet import load_fleet

from ..db.helpers import ADMIN_URL, admin_connection
from ..source.gitutil import git
from .conftest import RECENT, make_repo

ROOT = Path(__file__).resolve().parents[2]
CRONJOB = ROOT / "deploy" / "kubernetes" / "cronjob.yaml"
WORKFLOW = ROOT / "deploy" / "github" / "daily.yml"


def manifests() -> dict[str, dict[str, Any]]:
    docs = list(yaml.safe_load_all(CRONJOB.read_text()))
    return {doc["kind"]: doc for doc in docs}


def pod(cronjob: dict[str, Any]) -> dict[str, Any]:
    return cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def test_every_manifest_is_valid_against_the_kubernetes_schema() -> None:
    docs = list(yaml.safe_load_all(CRONJOB.read_text()))
    assert [d["kind"] for d in docs] == ["ConfigMap", "CronJob"]
    version = kubernetes_validate.latest_version()
    for doc in docs:
        kubernetes_validate.validate(doc, version, strict=True)
    # The validator is strict: a misspelt field is refused (so the check above can fail).
    broken = docs[1]
    broken["spec"]["jobTemplate"]["spec"]["completionz"] = 4
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, version, strict=True)


def test_the_cronjob_is_a_daily_indexed_job_with_consistent_shards() -> None:
    cronjob = manifests()["CronJob"]
    spec = cronjob["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    fields = spec["schedule"].split()
    assert len(fields) == 5 and fields[2:] == ["*", "*", "*"]  # once a day
    job = spec["jobTemplate"]["spec"]
    assert job["completionMode"] == "Indexed"
    assert job["activeDeadlineSeconds"] > 0
    (container,) = pod(cronjob)["containers"]
    args = container["args"]
    assert args[0] == "push"
    assert job["completions"] == job["parallelism"] == int(option(args, "--shards")) == 4


def test_secrets_come_from_a_secret_and_nothing_runs_as_root() -> None:
    cronjob = manifests()["CronJob"]
    spec = pod(cronjob)
    (container,) = spec["containers"]
    env = {e["name"]: e for e in container["env"]}
    for name in ("GITHUB_TOKEN", "GRABBER_DATABASE_URL"):
        assert "value" not in env[name]
        assert env[name]["valueFrom"]["secretKeyRef"]["name"] == "xfail-grabber"
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] != 0
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][kind])
    # The Dockerfile's user is the one the pod runs as (runAsNonRoot needs it numeric).
    user = re.search(r"^USER (\d+)", (ROOT / "Dockerfile").read_text(), re.M)
    assert user is not None and int(user.group(1)) == spec["securityContext"]["runAsUser"]


def test_writable_places_are_volumes_and_the_fleet_file_is_the_config_map() -> None:
    found = manifests()
    spec = pod(found["CronJob"])
    (container,) = spec["containers"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    mounts = {m["mountPath"]: volumes[m["name"]] for m in container["volumeMounts"]}
    args = container["args"]
    assert "emptyDir" in mounts[option(args, "--cache-dir")]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert "emptyDir" in mounts[env["TMPDIR"]] and env["HOME"] == env["TMPDIR"]
    config = Path(option(args, "--config"))
    source = mounts[str(config.parent)]["configMap"]["name"]
    config_map = found["ConfigMap"]
    assert config_map["metadata"]["name"] == source
    text = config_map["data"][config.name]
    assert "token" not in text.lower()


def test_the_config_maps_fleet_file_is_valid(tmp_path: Path) -> None:
    text = manifests()["ConfigMap"]["data"]["fleet.toml"]
    (tmp_path / "fleet.toml").write_text(text)
    fleet = load_fleet(tmp_path / "fleet.toml")
    assert len(fleet.repos) == 2


def test_the_workflow_passes_actionlint_and_runs_every_shard() -> None:
    actionlint = shutil.which("actionlint")
    assert actionlint, "actionlint comes with the [test] extra"
    done = subprocess.run(
        [actionlint, "-no-color", str(WORKFLOW)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert "schedule" in workflow[True]  # YAML 1.1 reads the key `on` as True
    job = workflow["jobs"]["push"]
    shards = job["strategy"]["matrix"]["shard"]
    assert shards == list(range(len(shards)))
    assert job["strategy"]["fail-fast"] is False
    (step,) = [s for s in job["steps"] if "grabber push" in s.get("run", "")]
    assert step["env"]["SHARD"] == "${{ matrix.shard }}/${{ strategy.job-total }}"
    assert '--shard "$SHARD"' in step["run"] and "--config" in step["run"]
    assert step["env"]["GITHUB_TOKEN"].startswith("${{ secrets.")


def test_actionlint_finds_a_broken_workflow(tmp_path: Path) -> None:
    actionlint = shutil.which("actionlint")
    assert actionlint
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("matrix.shard }}/", "matrix.shrad }}/"))
    done = subprocess.run([actionlint, str(broken)], capture_output=True, text=True, check=False)
    assert done.returncode == 1 and "shrad" in done.stdout


def test_the_pods_command_run_as_n_processes_covers_every_pair_once(tmp_path: Path) -> None:
    """What each pod runs (the image's entry point and the CronJob's args, with
    JOB_COMPLETION_INDEX set as Kubernetes sets it), run here as N processes at once against
    one PostgreSQL database."""
    cronjob = manifests()["CronJob"]
    count = cronjob["spec"]["jobTemplate"]["spec"]["completions"]
    (container,) = pod(cronjob)["containers"]
    args = list(container["args"])
    pairs = set()
    entries = []
    for i in range(6):
        branches = {"main": RECENT, **{f"release/{n}": RECENT for n in range(i % 3)}}
        root = make_repo(tmp_path / f"r{i}", branches)
        git(root, "branch", "old-feature")  # matched by no glob
        entries.append(f'[[repos]]\nurl = "file://{root}"\n')
        pairs |= {(f"file://{root}", b) for b in branches}
    fleet = tmp_path / "fleet.toml"
    fleet.write_text('[defaults]\nbranches = ["main", "release/*"]\n\n' + "\n".join(entries))
    args[args.index("--config") + 1] = str(fleet)
    args[args.index("--cache-dir") + 1] = str(tmp_path / "cache")
    name = "xg_fleet_" + uuid.uuid4().hex[:10]
    admin = admin_connection()
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        grabber = shutil.which("grabber", path=str(Path(sys.executable).parent))
        assert grabber
        env = {
            **{
                k: v
                for k, v in os.environ.items()
                if k not in ("GITHUB_TOKEN", "GRABBER_GIT_TOKEN")
            },
            "GRABBER_DATABASE_URL": url,
        }
        procs = [
            subprocess.Popen(
                [grabber, *args],
                env={**env, "JOB_COMPLETION_INDEX": str(index)},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for index in range(count)
        ]
        pushed = 0
        for index, proc in enumerate(procs):
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err
            assert out == ""
            summary = err.strip().splitlines()[-1]
            assert summary.startswith(f"grabber: fleet (shard {index}/{count}): 6 repositories")
            pushed += int(summary.split(" snapshots pushed")[0].rsplit(" ", 1)[-1])
        with admin_connection(name) as conn, conn.cursor() as cur:
            cur.execute('SELECT "repo", "branch" FROM snapshots')
            rows = cur.fetchall()
        conn.close()
        assert sorted(rows) == sorted(pairs)  # every pair, each once
        assert pushed == len(pairs)  # and no pair pushed by two pods
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
