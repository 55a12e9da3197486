from __future__ import annotations

from pathlib import Path

import pytest

from ..source.gitutil import commit, git, init_repo

RECENT = "2026-11-15T12:00:00Z"  # within 30 days of NOW
OLD = "2025-01-10T12:00:00Z"
NOW_EPOCH = "1795176000"  # 2026-11-20T12:00Z pins utc_now() (active_within is measured from it)


def mute(name: str) -> str:
    return f'import pytest\n\n@pytest.mark.xfail(reason="r")\ndef test_{name}():\n    pass\n'


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    for name in ("GITHUB_TOKEN", "GRABBER_GIT_TOKEN", "GRABBER_CACHE_DIR", "JOB_COMPLETION_INDEX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", NOW_EPOCH)


def make_repo(root: Path, branches: dict[str, str], head: str = "main") -> Path:
    """A repository whose branches each hold one muted test and have their tip on a date."""
    init_repo(root, head)
    commit(root, {"tests/test_base.py": mute("base")}, "base", date=OLD)
    for name, date in branches.items():
        if name != head:
            git(root, "checkout", "-q", "-b", name, head)
        slug = name.replace("/", "_").replace(".", "_").replace("-", "_")
        commit(root, {f"tests/test_{slug}.py": mute(slug)}, name, date=date)
        git(root, "checkout", "-q", head)
    return root


def write_fleet(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
