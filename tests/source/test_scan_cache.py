"""The scan cache storage: opaque keys and values in one SQLite file, shared by processes."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from xfail_grabber.source.cache import FILE_NAME, open_scan_cache


def test_round_trip_across_opens(tmp_path: Path) -> None:
    with open_scan_cache(tmp_path) as cache:
        assert cache.get_many(["a", "b"]) == {}
        cache.put_many({"a": b"\x00one", "b": b"two"})
        cache.put_many({"b": b"TWO"})
    with open_scan_cache(tmp_path) as cache:
        assert cache.get_many(["a", "b", "c"]) == {"a": b"\x00one", "b": b"TWO"}
        many = {f"k{i}": bytes([i % 256]) * 3 for i in range(2500)}
        cache.put_many(many)
        assert cache.get_many(list(many)) == many
    assert (tmp_path / FILE_NAME).is_file()


def test_damaged_file_is_replaced(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_bytes(b"this is not sqlite" * 100)
    with open_scan_cache(tmp_path) as cache:
        assert cache.get_many(["a"]) == {}
        cache.put_many({"a": b"1"})
        assert cache.get_many(["a"]) == {"a": b"1"}


def _writer(cache_dir: str, start: int) -> None:
    with open_scan_cache(Path(cache_dir)) as cache:
        for batch in range(20):
            base = start + batch * 50
            cache.put_many({f"k{i}": str(i).encode() for i in range(base, base + 50)})
            cache.get_many([f"k{i}" for i in range(0, 4000, 7)])


def test_concurrent_processes_share_the_file(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(str(tmp_path), n * 1000)) for n in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    with open_scan_cache(tmp_path) as cache:
        assert len(cache) == 3000
        assert cache.get_many(["k2999"]) == {"k2999": b"2999"}
