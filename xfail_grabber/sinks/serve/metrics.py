"""/metrics in the Prometheus text exposition format (version 0.0.4), and /healthz."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from .state import DataState

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def render_metrics(state: DataState, now: float | None = None) -> str:
    now = time.time() if now is None else now
    view, status = state.view, state.status
    lines: list[str] = []

    def metric(
        name: str, kind: str, help_text: str, samples: list[tuple[dict[str, str], float]]
    ) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            text = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
            lines.append(
                f"{name}{{{text}}} {_number(value)}" if text else f"{name} {_number(value)}"
            )

    metric(
        "grabber_snapshot_loaded",
        "gauge",
        "1 when a snapshot is being served.",
        [({}, 1 if view else 0)],
    )
    metric(
        "grabber_refresh_attempts_total",
        "counter",
        "Refreshes tried since start.",
        [({}, status.attempts)],
    )
    metric(
        "grabber_refresh_failures_total",
        "counter",
        "Refreshes that failed since start.",
        [({}, status.failures)],
    )
    metric(
        "grabber_last_refresh_ok",
        "gauge",
        "1 when the last refresh worked, 0 when it failed.",
        # A first refresh still running (or stuck) has not succeeded yet: 0, not 1.
        [({}, 0 if status.last_error or status.last_success_at is None else 1)]
        if status.last_attempt_at
        else [],
    )
    if status.last_success_at is not None:
        metric(
            "grabber_last_refresh_success_timestamp_seconds",
            "gauge",
            "When a refresh last worked (Unix time).",
            [({}, round(status.last_success_at, 3))],
        )
    if status.last_duration is not None:
        metric(
            "grabber_last_refresh_duration_seconds",
            "gauge",
            "How long the last refresh took.",
            [({}, round(status.last_duration, 3))],
        )
    if view is not None:
        snapshot = view.snapshot
        counts = snapshot.counts()
        base = {"repo": snapshot.repo, "branch": snapshot.branch or ""}
        metric(
            "grabber_muted_tests",
            "gauge",
            "Muted-test records by kind.",
            [({**base, "kind": k}, v) for k, v in counts["by_kind"].items()],
        )
        metric(
            "grabber_muted_tests_by_category",
            "gauge",
            "Muted-test records by category.",
            [({**base, "category": k}, v) for k, v in counts["by_category"].items()],
        )
        metric(
            "grabber_muted_tests_total",
            "gauge",
            "All muted-test records.",
            [(base, counts["total"])],
        )
        metric(
            "grabber_scan_errors",
            "gauge",
            "Files the scan could not read or parse.",
            [(base, counts["errors"])],
        )
        metric(
            "grabber_dynamic_mute_sites",
            "gauge",
            "add_marker/applymarker calls in hooks and fixtures (tests they mute not counted).",
            [(base, counts["dynamic"])],
        )
        owners = Counter(o for r in snapshot.muted for o in (r.owners or ("",)))
        metric(
            "grabber_muted_tests_by_owner",
            "gauge",
            'Muted-test records per CODEOWNERS owner (owner="" for records without one).',
            [({**base, "owner": k}, v) for k, v in sorted(owners.items())],
        )
        metric(
            "grabber_stale_muted_tests",
            "gauge",
            "Muted tests whose ticket is closed (with --tickets).",
            [(base, sum(1 for r in snapshot.muted if r.stale))],
        )
        metric(
            "grabber_snapshot_age_seconds",
            "gauge",
            "Seconds since the snapshot was scanned.",
            [(base, max(0, round(now - snapshot.scanned_at.timestamp())))],
        )
    return "\n".join(lines) + "\n"


def health(state: DataState, now: float | None = None) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body): 200 while data is served (status "ok" or "stale"), else 503."""
    now = time.time() if now is None else now
    view, status = state.view, state.status
    body: dict[str, Any] = {
        "status": "ok",
        "refreshing": status.refreshing,
        "refresh_attempts": status.attempts,
        "refresh_failures": status.failures,
        "last_error": status.last_error,
        "last_success_age_seconds": (
            None if status.last_success_at is None else round(now - status.last_success_at)
        ),
    }
    if view is None:
        body["status"] = "starting" if status.last_error is None else "failing"
        return 503, body
    body["status"] = "stale" if status.last_error else "ok"
    body["snapshot"] = {
        **view.header(),
        "total": len(view.snapshot.muted),
        "age_seconds": max(0, round(now - view.snapshot.scanned_at.timestamp())),
    }
    return 200, body
