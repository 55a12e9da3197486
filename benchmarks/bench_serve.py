"""Load benchmark of `grabber serve`: N concurrent keep-alive clients for S seconds against
/redash and /api/muted, on loopback, over a snapshot of 10,000 hand-built records.

The server runs in its own process (as in production: one uvicorn process). The clients are wrk
connections when wrk is installed (Debian package `wrk`; half the clients on each route), else
asyncio connections in this process, each alternating the routes (their own CPU use then
weighs on the figures). /api/muted is asked with a filter and a page, as the dashboard and
Grafana ask. Reported: requests/s, p50/p99/max latency per route, errors (non-200 answers,
broken connections, timeouts), the server's CPU use and the machine's load before the run.
Meanwhile 20 slowloris connections (--slow) trickle an endless header; the report says how
many times the server cut them off at its 10 s header deadline.

    python benchmarks/bench_serve.py                     # 50 clients, 20 s, gzip accepted
    python benchmarks/bench_serve.py --client python     # the asyncio clients even with wrk
    python benchmarks/bench_serve.py --identity          # bodies uncompressed
    python benchmarks/bench_serve.py --clients 10 --seconds 5 --records 1000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from hostinfo import cpu_model  # noqa: E402

ROUTES = ["/redash", "/api/muted?kind=xfailflake,skip&limit=100&offset=200"]
REQUEST_TIMEOUT = 10.0


def run_server(records: int) -> None:
    """The server side (a child process): print the port, serve until terminated."""
    sys.path.insert(0, str(ROOT / "tests" / "serve"))
    from snapshots import big_snapshot  # type: ignore[import-not-found]

    from xfail_grabber.sinks.serve.app import create_app
    from xfail_grabber.sinks.serve.runner import bind, serve_forever
    from xfail_grabber.sinks.serve.state import DataState

    snapshot = big_snapshot(records)
    state = DataState(lambda: snapshot)
    state.refresh()
    sock = bind("127.0.0.1", 0)
    print(sock.getsockname()[1], flush=True)
    serve_forever(create_app(state), sock)


async def one_request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str, gzip: bool
) -> tuple[int, int]:
    encoding = "Accept-Encoding: gzip\r\n" if gzip else ""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n{encoding}\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    body = await reader.readexactly(length)
    return status, len(body)


async def client(
    port: int,
    until: float,
    gzip: bool,
    results: dict[str, list[float]],
    errors: dict[str, int],
    sizes: dict[str, int],
    offset: int,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = offset
    try:
        while time.perf_counter() < until:
            path = ROUTES[i % len(ROUTES)]
            i += 1
            started = time.perf_counter()
            try:
                status, size = await asyncio.wait_for(
                    one_request(reader, writer, path, gzip), REQUEST_TIMEOUT
                )
            except (
                TimeoutError,
                OSError,
                asyncio.IncompleteReadError,
                asyncio.LimitOverrunError,
                ValueError,
            ):
                errors[path] += 1
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            if status != 200:
                errors[path] += 1
                continue
            results[path].append(time.perf_counter() - started)
            sizes[path] = size
    finally:
        writer.close()


async def load(port: int, clients: int, seconds: float, gzip: bool) -> dict[str, object]:
    results: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    sizes: dict[str, int] = {}
    started = time.perf_counter()
    until = started + seconds
    await asyncio.gather(
        *(client(port, until, gzip, results, errors, sizes, n) for n in range(clients))
    )
    elapsed = time.perf_counter() - started
    report: dict[str, object] = {}
    for path in ROUTES:
        times = sorted(results[path])
        report[path] = {
            "requests": len(times),
            "requests_per_s": round(len(times) / elapsed, 1),
            "p50_ms": round(1000 * statistics.median(times), 1) if times else None,
            "p99_ms": round(1000 * times[int(0.99 * (len(times) - 1))], 1) if times else None,
            "max_ms": round(1000 * times[-1], 1) if times else None,
            "errors": errors[path],
            "body_bytes": sizes.get(path),
        }
    every = sorted(t for path in ROUTES for t in results[path])
    report["all"] = {
        "requests": len(every),
        "requests_per_s": round(len(every) / elapsed, 1),
        "p50_ms": round(1000 * statistics.median(every), 1) if every else None,
        "p99_ms": round(1000 * every[int(0.99 * (len(every) - 1))], 1) if every else None,
        "errors": sum(errors.values()),
    }
    return report


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (Linux), 0 where /proc is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number = re.match(r"([\d.]+)([a-z]+)", text)
    assert number, text
    return round(float(number.group(1)) * UNITS_MS[number.group(2)], 1)


def wrk_load(port: int, clients: int, seconds: float, gzip: bool) -> dict[str, object]:
    """The same load from wrk (C, one thread per route): client overhead out of the figures."""
    shares = [clients // len(ROUTES) + (i < clients % len(ROUTES)) for i in range(len(ROUTES))]
    header = ["-H", "Accept-Encoding: gzip"] if gzip else []
    runs = [
        subprocess.Popen(
            [
                "wrk",
                "-t1",
                f"-c{share}",
                f"-d{max(1, round(seconds))}s",
                "--latency",
                "--timeout",
                "10s",
                *header,
                f"http://127.0.0.1:{port}{path}",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for path, share in zip(ROUTES, shares, strict=True)
    ]
    report: dict[str, object] = {}
    total_rps, total_errors, total_requests = 0.0, 0, 0
    for path, run in zip(ROUTES, runs, strict=True):
        out, _ = run.communicate(timeout=seconds + 60)
        latency = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", out)
        p50 = re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE)
        p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)
        requests = re.search(r"(\d+) requests in", out)
        rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
        assert latency and p50 and p99 and requests and rps, out
        errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
        non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        errors += int(non_2xx.group(1)) if non_2xx else 0
        report[path] = {
            "requests": int(requests.group(1)),
            "requests_per_s": float(rps.group(1)),
            "p50_ms": _ms(p50.group(1)),
            "p99_ms": _ms(p99.group(1)),
            "max_ms": _ms(latency.group(3)),
            "errors": errors,
        }
        total_rps += float(rps.group(1))
        total_errors += errors
        total_requests += int(requests.group(1))
    report["all"] = {
        "requests": total_requests,
        "requests_per_s": round(total_rps, 1),
        "errors": total_errors,
    }
    return report


async def trickle(port: int, until: float, cut_off: list[int]) -> None:
    """A slowloris client: one byte of an endless header every half second."""
    while time.perf_counter() < until:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.5)
            continue
        writer.write(b"GET /redash HTTP/1.1\r\nHost: bench\r\nX-Slow: ")
        try:
            while time.perf_counter() < until:
                try:
                    if await asyncio.wait_for(reader.read(1), 0.5) == b"":
                        cut_off[0] += 1  # the server's header deadline
                        break
                except TimeoutError:
                    writer.write(b"x")
        except OSError:
            cut_off[0] += 1
        finally:
            writer.close()


def slow_clients(port: int, count: int, seconds: float) -> tuple[threading.Thread, list[int]]:
    cut_off = [0]

    async def run_all() -> None:
        until = time.perf_counter() + seconds
        await asyncio.gather(*(trickle(port, until, cut_off) for _ in range(count)))

    thread = threading.Thread(target=asyncio.run, args=(run_all(),), daemon=True)
    thread.start()
    return thread, cut_off


def machine() -> str:
    model = cpu_model()
    return (
        f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument(
        "--slow",
        type=int,
        default=20,
        metavar="N",
        help="also keep N slowloris connections trickling headers (default 20)",
    )
    parser.add_argument("--identity", action="store_true", help="do not accept gzip")
    parser.add_argument(
        "--route", action="append", metavar="PATH", help="request this path instead (repeatable)"
    )
    parser.add_argument(
        "--client",
        choices=["auto", "wrk", "python"],
        default="auto",
        help="load generator: wrk when installed (auto), else asyncio here",
    )
    parser.add_argument("--server", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.route:
        ROUTES[:] = args.route
    if args.server:
        run_server(args.records)
        return 0
    load_before = [round(x, 2) for x in os.getloadavg()]
    server = subprocess.Popen(
        [sys.executable, __file__, "--server", "--records", str(args.records)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        slow_thread, cut_off = slow_clients(port, args.slow, args.seconds)
        cpu_before, wall = cpu_seconds(server.pid), time.perf_counter()
        use_wrk = args.client == "wrk" or (args.client == "auto" and shutil.which("wrk"))
        if use_wrk:
            report = wrk_load(port, args.clients, args.seconds, not args.identity)
        else:
            report = asyncio.run(load(port, args.clients, args.seconds, not args.identity))
        server_cpu = (cpu_seconds(server.pid) - cpu_before) / (time.perf_counter() - wall)
        slow_thread.join(15)
    finally:
        server.terminate()
        server.wait(10)
    summary = {
        "machine": machine(),
        "clients": args.clients,
        "seconds": args.seconds,
        "records": args.records,
        "accept_gzip": not args.identity,
        "client": "wrk" if use_wrk else "python asyncio",
        "slow_clients": args.slow,
        "slow_clients_cut_off": cut_off[0],
        "server_cpu_percent": round(100 * server_cpu),
        "load_average_before": load_before,
        "routes": report,
    }
    print(json.dumps(summary, indent=2))
    total = report["all"]
    assert isinstance(total, dict)
    return 0 if total["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
