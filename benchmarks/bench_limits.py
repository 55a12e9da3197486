"""What the parser limits cost and leave room for (issue 9, items 2 and 3).

    python benchmarks/bench_limits.py [CORPUS_DIR]

1. Over a corpus of real Python (default: CPython's own Lib/test of the running
   interpreter), for every file that mentions a mark word: the time of `ast.parse`, of the
   budget walk (`over_budget`) and of libcst on the selected statements, and the largest
   depth and node count the walk sees, against the limits.
2. `grabber dump` on one hostile file each (the issue's cases), time and peak memory, next
   to a dump of a small ordinary repository measured in the same run.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import libcst as cst
from hostinfo import PeakRss, cpu_model

from xfail_grabber.config import Settings
from xfail_grabber.scan import file as scanfile
from xfail_grabber.scan.words import keyword_pattern


def _largest(snippets: list[tuple[list[ast.stmt], str]], what: str) -> int:
    """The smallest limit the walk accepts for `what` (depth or nodes), by bisection."""
    low, high = 1, 10**7
    saved = scanfile.MAX_LIBCST_DEPTH, scanfile.MAX_LIBCST_NODES
    try:
        while low < high:
            middle = (low + high) // 2
            scanfile.MAX_LIBCST_DEPTH = middle if what == "depth" else 10**9
            scanfile.MAX_LIBCST_NODES = middle if what == "nodes" else 10**9
            if scanfile.over_budget(snippets):
                low = middle + 1
            else:
                high = middle
    finally:
        scanfile.MAX_LIBCST_DEPTH, scanfile.MAX_LIBCST_NODES = saved
    return low


def corpus(root: Path) -> None:
    settings = Settings()
    words = keyword_pattern(settings.mark_names)
    parse = guard = libcst = 0.0
    files = 0
    deepest = (0, "")
    largest = (0, "")
    for path in sorted(root.rglob("*.py")):
        try:
            text = scanfile.decode(path.read_bytes())
        except (OSError, SyntaxError, LookupError, UnicodeDecodeError):
            continue
        if not words.search(text):
            continue
        started = time.perf_counter()
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        parse += time.perf_counter() - started
        snippets = scanfile.select(text, tree, settings, ())
        started = time.perf_counter()
        scanfile.over_budget(snippets)
        guard += time.perf_counter() - started
        started = time.perf_counter()
        try:
            for _, source in snippets:
                cst.parse_module(source)
        except Exception:  # noqa: S112 (a file libcst refuses is not this benchmark's business)
            continue
        libcst += time.perf_counter() - started
        files += 1
        deepest = max(deepest, (_largest(snippets, "depth"), str(path.relative_to(root))))
        largest = max(largest, (_largest(snippets, "nodes"), str(path.relative_to(root))))
    print(f"corpus {root}: {files} files with a mark word")
    print(f"  ast.parse {parse:.2f} s, budget walk {guard:.2f} s, libcst {libcst:.2f} s")
    print(f"  walk / libcst = {guard / libcst:.3f}, walk / ast.parse = {guard / parse:.3f}")
    print(f"  deepest: {deepest[0]} levels ({deepest[1]}); limit {scanfile.MAX_LIBCST_DEPTH}")
    print(f"  largest: {largest[0]} nodes ({largest[1]}); limit {scanfile.MAX_LIBCST_NODES}")


HOSTILE = {
    "ordinary (baseline)": "import pytest\n\n@pytest.mark.skip(reason='r')\n",
    "and-chain, 10,000 terms": "import pytest\n\n@pytest.mark.skipif({}, reason='d')\n".format(
        " and ".join(["x"] * 10_000)
    ),
    "10 MB string literal": "import pytest\n\n@pytest.mark.skip(reason='{}')\n".format(
        "x" * 10_000_000
    ),
    "2 MB pytestmark list": "import pytest\npytestmark = [pytest.mark.skip] + [{}]\n".format(
        ", ".join(["1"] * 700_000)
    ),
    "subscript chain, 2,000 deep": "import pytest\nx = a{}\n@pytest.mark.skip\n".format(
        "[0]" * 2000
    ),
}


def hostile() -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    baseline = None
    for name, head in HOSTILE.items():
        with tempfile.TemporaryDirectory() as repo:
            Path(repo, "test_x.py").write_text(head + "def test_a():\n    pass\n")
            started = time.perf_counter()
            process = subprocess.Popen(
                [sys.executable, "-m", "xfail_grabber", "dump", repo, "--workers", "1"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
            )
            with PeakRss(process.pid) as peak:
                code = process.wait()
            seconds = time.perf_counter() - started
        mb = peak.peak / 2**20
        baseline = baseline or (seconds, mb)
        print(
            f"  {name:30} exit {code:3}  {seconds:6.2f} s ({seconds / baseline[0]:4.1f}x)  "
            f"{mb:6.0f} MB ({mb / baseline[1]:4.1f}x)"
        )


def main() -> None:
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    default = Path(sysconfig.get_paths()["stdlib"]) / "test"
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    corpus(root)
    print("grabber dump of one file each (peak resident memory of the process):")
    hostile()


if __name__ == "__main__":
    main()
