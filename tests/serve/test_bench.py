"""benchmarks/bench_serve.py runs (a tiny load, so it stays fast) and reports what it says."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_serve.py"


@pytest.mark.skipif(not BENCH.exists(), reason="benchmarks/ not in this tree")
def test_bench_serve_smoke() -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--client",
            "python",
            "--clients",
            "4",
            "--seconds",
            "1",
            "--records",
            "200",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["records"] == 200 and report["client"] == "python asyncio"
    routes = report["routes"]
    assert routes["all"]["errors"] == 0
    assert routes["/redash"]["requests"] > 0
    assert routes["/redash"]["p99_ms"] >= routes["/redash"]["p50_ms"] > 0
