PYTHON ?= python3

.PHONY: install test lint bench

install:
	$(PYTHON) -m pip install -e '.[test]'

test:
	$(PYTHON) -m pytest

lint:
	$(PYTHON) -m ruff check xfail_grabber tests benchmarks xfailflake_grabber.py setup.py
	$(PYTHON) -m ruff format --check xfail_grabber tests benchmarks xfailflake_grabber.py setup.py
	$(PYTHON) -m mypy

bench:
	$(PYTHON) benchmarks/run.py
