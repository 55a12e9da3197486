"""A heavy-churn year on top of synth.py's repository (issue 12's second scenario).

`synth.churn` touches 1-2% of the test files a week, each time a mute. A busy project does
more: `week(path, n)` commits one week of it, one day after the head:

- 15% of the test files change, as code changes mostly (an assert added, a plain test added
  or removed); one change in ten adds, removes or edits a mute as `synth.churn` does (still
  about 2,000 mute changes a year: far more than a real project's, whose test edits are
  mostly code);
- about 1% new test files appear (one in ten muted, like the base) and 0.5% are deleted;
- every fourth week one area's shared `helpers.py` changes its mark aliases (a ticket, a
  reason, the kind of an alias; a new alias that test files then import; an alias dropped),
  which changes the records of test files that import them without their bytes changing;
- in weeks 10, 23, 36 and 49 a directory moves: a sub-package into another area (its
  relative `..helpers` imports now reach the other area's helpers) or a whole area renamed
  (its absolute `tests.<area>.` imports rewritten).

`distinct_blob_ratio(path, commits)` is the figure the target is stated in: the distinct
test-file blobs over the commits, over the test files of the last one.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import synth

VERSION = 2  # bump when what a week does changes: benchmarks rebuild their repository
WEEKLY_SHARE = 0.15
ADDED_SHARE = 0.01
DELETED_SHARE = 0.005
MOVE_WEEKS = (10, 23, 36, 49)
HELPER_EVERY = 4
# Edits of a changed test file (op, weight): code changes mostly, one in ten a mute change.
EDITS = (
    ("add_assert", 52),
    ("add_plain_test", 24),
    ("remove_test", 14),
    ("add_mute", 3),
    ("remove_mute", 2),
    ("edit_mute", 3),
    ("add_test", 2),  # synth.churn's: half of them with a skip mark
)
NEW_ALIASES = {
    "needs_gpu": ('pytest.mark.skipif(not os.environ.get("GPU"), reason="needs a GPU")', "skipif"),
    "known_regression": ('pytest.mark.xfail(reason="regression, see the tracker")', "xfail"),
}
_ASSERT = re.compile(r"^([ \t]+)assert ", re.MULTILINE)


def week(path: Path, n: int, *, share: float = WEEKLY_SHARE, seed: int = 7) -> dict[str, int]:
    """Commit week `n` of heavy churn; returns counts of what it did."""
    path = Path(path)
    rng = random.Random(seed * 100_003 + n)
    done = {"edited": 0, "added": 0, "deleted": 0, "moved": 0, "helpers": 0}
    if n in MOVE_WEEKS:
        done["moved"] = _move(path, rng, n)
    if n % HELPER_EVERY == HELPER_EVERY - 1:
        done["helpers"] = _change_helpers(path, rng, n)
    tests = _tests(path)
    for rel in sorted(rng.sample(tests, round(len(tests) * share))):
        file = path / rel
        text = file.read_text(encoding="utf-8")
        op = rng.choices([o for o, _ in EDITS], weights=[w for _, w in EDITS])[0]
        changed = _edit(rng, op, text, n)
        if changed is None or changed == text:
            changed = _edit(rng, "add_plain_test", text, n)
        assert changed is not None
        file.write_text(changed, encoding="utf-8")
        done["edited"] += 1
    for rel in rng.sample(tests, max(1, round(len(tests) * DELETED_SHARE))):
        if (path / rel).exists():
            (path / rel).unlink()
            done["deleted"] += 1
    done["added"] = _add_files(path, rng, max(1, round(len(tests) * ADDED_SHARE)), n)
    head = int(synth._git(path, "log", "-1", "--format=%ct"))
    synth._commit_all(path, f"Week {n}: {done}", head + 7 * 86_400)
    return done


def _tests(path: Path) -> list[str]:
    return sorted(p for p in synth._git(path, "ls-files", "*.py").splitlines() if synth._is_test(p))


def _edit(rng: random.Random, op: str, text: str, n: int) -> str | None:
    if op == "add_assert":
        found = list(_ASSERT.finditer(text))
        if not found:
            return None
        hit = rng.choice(found)
        value = rng.randint(0, 10**6)
        line = f"{hit.group(1)}assert {value} == {value}  # week {n}\n"
        return text[: hit.start()] + line + text[hit.start() :]
    if op == "add_plain_test":
        name = f"test_week{n}_{rng.randint(0, 10**9)}"
        return text.rstrip("\n") + f"\n\n\ndef {name}():\n    assert {n} == {n}\n"
    return synth._apply(rng, op, text)


def _add_files(path: Path, rng: random.Random, count: int, n: int) -> int:
    dirs = sorted({str(Path(t).parent) for t in _tests(path)})
    for index in range(count):
        directory = rng.choice(dirs)
        parts = directory.split("/")
        area, depth = parts[1], len(parts) - 2
        size = int(rng.lognormvariate(0.0, synth.SIGMA) * 3000)
        size = min(synth.MAX_FILE, max(synth.MIN_FILE, size))
        text, _ = synth.render_test_file(rng, area, depth, rng.random() < synth.MUTED_SHARE, size)
        (path / directory / f"test_week{n}_{index}.py").write_text(text, encoding="utf-8")
    return count


def _change_helpers(path: Path, rng: random.Random, n: int) -> int:
    """Rewrite one area's helpers.py aliases; some weeks add one (and use it) or drop one."""
    helpers = sorted(path.glob("tests/*/helpers.py"))
    file = rng.choice(helpers)
    text = file.read_text(encoding="utf-8")
    roll = rng.random()
    if roll < 0.6:  # a ticket, a reason or the kind of an existing alias
        text = re.sub(r"DCOS-\d+", f"DCOS-{5000 + n}", text)
        text = text.replace("needs network access", f"needs network access (week {n})")
        if rng.random() < 0.5:
            text = text.replace(
                "retry_on_ci = pytest.mark.flaky(", "retry_on_ci = pytest.mark.xfail("
            )
    elif roll < 0.85:  # a new alias, imported and used by a few test files of the area
        name = sorted(NEW_ALIASES)[n % len(NEW_ALIASES)]
        if f"\n{name} = " not in text:
            text = text.replace("slow = ", f"{name} = {NEW_ALIASES[name][0]}\nslow = ")
        area_dir = file.parent
        users = sorted(p for p in area_dir.rglob("test_*.py"))
        for user in rng.sample(users, min(3, len(users))):
            depth = len(user.relative_to(area_dir).parts) - 1
            source = "." * (depth + 1) + "helpers"
            body = user.read_text(encoding="utf-8")
            body = f"from {source} import {name}\n" + body
            body += f"\n\n@{name}\ndef test_{name}_week{n}():\n    assert True\n"
            user.write_text(body, encoding="utf-8")
    else:  # an alias dropped: its users' marks now name nothing
        text = re.sub(r"(?m)^windows_only = .*\n", "", text)
    file.write_text(text, encoding="utf-8")
    return 1


def _move(path: Path, rng: random.Random, n: int) -> int:
    """Move a sub-package to another area, or rename an area (imports rewritten)."""
    areas = sorted(p.name for p in (path / "tests").iterdir() if (p / "helpers.py").is_file())
    subs = sorted(
        p.relative_to(path)
        for area in areas
        for p in (path / "tests" / area).iterdir()
        if p.is_dir() and (p / "__init__.py").is_file()
    )
    if n % 2 == 0 and subs:
        sub = rng.choice(subs)
        other = rng.choice([a for a in areas if a != sub.parts[1]])
        target = Path("tests") / other / f"{sub.name}_moved{n}"
        synth._git(path, "mv", str(sub), str(target))
        return len(list((path / target).rglob("*.py")))
    area = rng.choice(areas)
    new = f"{area}_v{n}"
    synth._git(path, "mv", f"tests/{area}", f"tests/{new}")
    moved = sorted((path / "tests" / new).rglob("*.py"))
    for file in moved:
        text = file.read_text(encoding="utf-8")
        if f"tests.{area}." in text:
            file.write_text(text.replace(f"tests.{area}.", f"tests.{new}."), encoding="utf-8")
    return len(moved)


def distinct_blob_ratio(path: Path, commits: list[str]) -> float:
    """Distinct test-file blobs over `commits`, over the test files of the last commit."""
    distinct: set[str] = set()
    last = 0
    for commit in commits:
        out = synth._git(path, "ls-tree", "-r", commit)
        blobs = [
            line.split()[2] for line in out.splitlines() if synth._is_test(line.split("\t", 1)[1])
        ]
        distinct.update(blobs)
        last = len(blobs)
    return len(distinct) / last
