"""Settings: which markers count, which files and names are tests.

Test discovery follows pytest: `python_files`, `python_classes`, `python_functions` and
`norecursedirs` come from the scanned repository's own pytest configuration (the first of
pytest.ini, .pytest.ini, pyproject.toml, tox.ini, setup.cfg that has a pytest section, as
pytest picks it), with pytest's defaults otherwise. Marker settings come from the command line
or a `grabber.toml` (`--config`).
"""

from __future__ import annotations

import configparser
import fnmatch
import functools
import hashlib
import os
import re
import stat
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

DEFAULT_CUSTOM_MARKERS = ("xfailflake", "quarantined")
BUILTIN_KINDS = ("xfail", "skip", "skipif", "flaky")
OTHER_KINDS = (
    "unittest-skip",
    "expectedFailure",
    "imperative-skip",
    "imperative-xfail",
    "trial-skip",
    "trial-todo",
)

DEFAULT_PYTHON_FILES = ("test_*.py", "*_test.py")
DEFAULT_PYTHON_CLASSES = ("Test",)
DEFAULT_PYTHON_FUNCTIONS = ("test",)
DEFAULT_NORECURSEDIRS = (
    "*.egg",
    ".*",
    "_darcs",
    "build",
    "CVS",
    "dist",
    "node_modules",
    "venv",
    "{arch}",
)
# Files the scanner will parse at most; larger ones go through the regex fallback.
DEFAULT_MAX_PARSE_BYTES = 5 * 1024 * 1024

# grabber.toml keys of a fleet file, validated by xfail_grabber.fleet (not by load_grabber_toml).
FLEET_KEYS = ("defaults", "repos", "shards")

# pytest's own precedence (pytest 9): pytest.toml and pytest.ini count even when empty.
PYTEST_CONFIG_FILES = (
    "pytest.toml",
    ".pytest.toml",
    "pytest.ini",
    ".pytest.ini",
    "pyproject.toml",
    "tox.ini",
    "setup.cfg",
)
# A repository's config file larger than this is ignored (pytest's defaults apply).
MAX_CONFIG_BYTES = 1024 * 1024


class ConfigError(Exception):
    """A settings file that cannot be read; the message says which and why."""


@dataclass(frozen=True)
class Discovery:
    """pytest's rules for which files, classes and functions are tests."""

    python_files: tuple[str, ...] = DEFAULT_PYTHON_FILES
    python_classes: tuple[str, ...] = DEFAULT_PYTHON_CLASSES
    python_functions: tuple[str, ...] = DEFAULT_PYTHON_FUNCTIONS
    norecursedirs: tuple[str, ...] = DEFAULT_NORECURSEDIRS
    source: str | None = None  # the config file these came from
    markers: tuple[str, ...] = ()  # names the project registers in its `markers` setting
    # pytest's default norecursedirs (build, dist, venv, .*) guard against collecting build
    # output: they apply to files git does not track; the repository's own always apply.
    norecursedirs_configured: bool = False
    # The directory pytest is pointed at (`pytest tests/unit`), repository-relative: pytest
    # never skips it or its parents (norecursedirs applies below it only).
    initial: str = ""

    def is_test_file(self, path: str) -> bool:
        return _is_test_file(path, self.python_files)

    def skips_path(self, path: str, tracked: bool) -> bool:
        """Does pytest never recurse into a directory holding `path` (repository-relative)?"""
        if tracked and not self.norecursedirs_configured:
            return False
        parts = path.split("/")[:-1]
        first = len(self.initial.split("/")) if self.initial else 0
        return any(
            _skips_dir_path(parts[index], "/".join(parts[: index + 1]), self.norecursedirs)
            for index in range(first, len(parts))
        )

    def is_test_class(self, name: str) -> bool:
        return _name_matches(name, self.python_classes)

    def is_test_function(self, name: str) -> bool:
        return _name_matches(name, self.python_functions)


@functools.lru_cache(maxsize=4096)
def _skips_dir_path(name: str, path: str, patterns: tuple[str, ...]) -> bool:
    # pytest (fnmatch_ex): a pattern with a slash matches the directory's path from its end
    # (`testing/example_scripts`), one without matches the directory's name.
    for pattern in patterns:
        if "/" in pattern:
            pattern = pattern.strip("/")
            if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, f"*/{pattern}"):
                return True
        elif fnmatch.fnmatch(name, pattern):
            return True
    return False


def _is_test_file(path: str, python_files: tuple[str, ...]) -> bool:
    name = path.rsplit("/", 1)[-1]
    if not name.endswith(".py") or name in ("conftest.py", "__init__.py"):
        return False
    for pattern in python_files:
        target = path if "/" in pattern else name
        if fnmatch.fnmatch(target, pattern):
            return True
    return False


def _name_matches(name: str, patterns: tuple[str, ...]) -> bool:
    # pytest: a pattern with glob characters is a glob, otherwise a prefix.
    for pattern in patterns:
        if any(ch in pattern for ch in "*?["):
            if fnmatch.fnmatch(name, pattern):
                return True
        elif name.startswith(pattern):
            return True
    return False


@dataclass(frozen=True)
class Settings:
    """Everything that decides what a scan reports."""

    custom_markers: tuple[str, ...] = DEFAULT_CUSTOM_MARKERS
    only: tuple[str, ...] = ()  # restrict reported kinds; empty means all
    discovery: Discovery = field(default_factory=Discovery)
    max_parse_bytes: int = DEFAULT_MAX_PARSE_BYTES

    @property
    def mark_names(self) -> tuple[str, ...]:
        """pytest mark names that mute a test."""
        return tuple(dict.fromkeys(BUILTIN_KINDS + self.custom_markers))

    @property
    def kinds(self) -> tuple[str, ...]:
        if self.only:
            return self.only
        return self.mark_names + OTHER_KINDS

    def wants(self, kind: str) -> bool:
        return not self.only or kind in self.only

    @property
    def retry_flaky(self) -> bool:
        """`flaky` is a rerun plugin's mark unless the project registers its own `flaky`."""
        return "flaky" not in self.discovery.markers

    def fingerprint(self) -> str:
        """Identifies the settings that change per-file scan results (for caches)."""
        text = repr(
            (
                self.mark_names,
                self.only,
                self.discovery.python_classes,
                self.discovery.python_functions,
                self.max_parse_bytes,
                self.retry_flaky,
            )
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def with_discovery(self, discovery: Discovery) -> Settings:
        return replace(self, discovery=discovery)


def _split(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return None


def read_config_file(path: Path) -> bytes | None:
    """The bytes of a config file in a scanned work tree, or None: missing, not a regular file
    (a FIFO would block the read forever, /dev/zero never ends), or over MAX_CONFIG_BYTES.

    The repository is not trusted: opened without blocking, checked on the open descriptor
    (no race with a swap of the name), read only up to the cap.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except (OSError, ValueError):
        return None
    with os.fdopen(fd, "rb") as handle:
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            data = handle.read(MAX_CONFIG_BYTES + 1)
        except OSError:
            return None
    return data if len(data) <= MAX_CONFIG_BYTES else None


def discovery_from_files(read: Callable[[str], bytes | None]) -> Discovery:
    """pytest's discovery settings from the repository root, via `read(name) -> bytes|None`.

    A malformed config file is ignored the way pytest would not: we cannot run pytest, so we
    fall back to the defaults and say where the settings came from in `source`.
    """
    found = pytest_ini(read)
    if found is None:
        return Discovery()
    name, section = found
    values: dict[str, tuple[str, ...]] = {}
    for key in ("python_files", "python_classes", "python_functions", "norecursedirs"):
        parsed = _split(section.get(key))
        if parsed:
            values[key] = parsed
    default = Discovery()
    return Discovery(
        python_files=values.get("python_files", default.python_files),
        python_classes=values.get("python_classes", default.python_classes),
        python_functions=values.get("python_functions", default.python_functions),
        norecursedirs=values.get("norecursedirs", default.norecursedirs),
        source=name,
        markers=registered_markers(section.get("markers")),
        norecursedirs_configured="norecursedirs" in values,
    )


@dataclass(frozen=True)
class RootDir:
    """Where pytest roots a run: node ids are relative to `path`, settings come from `config`
    (both repository-relative; "" is the repository's top, None: no config file)."""

    path: str = ""
    config: str | None = None


def find_rootdir(read: Callable[[str], bytes | None], start: str = "") -> RootDir:
    """The rootdir of `pytest START` run at the repository's top (START a repository-relative
    directory), as pytest determines it (_pytest/config/findpaths.py, determine_setup):

    1. START and its parents, nearest first: the first directory holding a config file
       pytest reads (pytest.toml, pytest.ini, a pyproject.toml with a [tool.pytest] table, a
       tox.ini with [pytest], a setup.cfg with [tool:pytest]...; pytest_ini's precedence);
    2. else the directory of the nearest pyproject.toml, even without a pytest table;
    3. else the nearest directory holding a setup.py;
    4. else the directory pytest was run in: the repository's top.

    pytest keeps looking above the repository; a scan stays inside it (the files above are
    not the repository's, and a clone has none).
    """
    parts = start.split("/") if start else []
    bases = ["/".join(parts[:n]) for n in range(len(parts), -1, -1)]
    pyproject: str | None = None
    for base in bases:
        found = pytest_ini(under(read, base))
        if found is not None:
            return RootDir(base, join(base, found[0]))
        if pyproject is None and read(join(base, "pyproject.toml")) is not None:
            pyproject = base
    if pyproject is not None:
        return RootDir(pyproject, join(pyproject, "pyproject.toml"))
    for base in bases:
        if read(join(base, "setup.py")) is not None:
            return RootDir(base)
    return RootDir()


def join(directory: str, name: str) -> str:
    """A repository-relative path in `directory` ("" is the top)."""
    return f"{directory}/{name}" if directory else name


def under(read: Callable[[str], bytes | None], directory: str) -> Callable[[str], bytes | None]:
    """`read` (repository-relative names) for the names of one directory."""
    if not directory:
        return read
    return lambda name: read(join(directory, name))


def pytest_ini(read: Callable[[str], bytes | None]) -> tuple[str, dict[str, Any]] | None:
    """The repository's pytest settings as pytest picks them: (file name, ini values)."""
    for name in PYTEST_CONFIG_FILES:
        data = read(name)
        if data is None or len(data) > MAX_CONFIG_BYTES:
            continue
        section = _pytest_section(name, data)
        if section is not None:
            return name, section
    return None


def registered_markers(value: str | list[str] | None) -> tuple[str, ...]:
    """Marker names of pytest's `markers` setting (`name(args): description` lines)."""
    if value is None:
        return ()
    lines = value.splitlines() if isinstance(value, str) else [str(v) for v in value]
    names = (re.split(r"[:(]", line, maxsplit=1)[0].strip() for line in lines)
    return tuple(dict.fromkeys(n for n in names if n.isidentifier()))


def _pytest_section(name: str, data: bytes) -> dict[str, Any] | None:
    text = data.decode("utf-8", errors="replace")
    if name.endswith(".toml"):
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            return None
        if name != "pyproject.toml":
            # pytest.toml / .pytest.toml: a `[pytest]` table; the file counts even when empty.
            section = doc.get("pytest", {})
            return section if isinstance(section, dict) else {}
        tool = doc.get("tool", {})
        pytest_table = tool.get("pytest") if isinstance(tool, dict) else None
        if not isinstance(pytest_table, dict):
            return None
        ini = pytest_table.get("ini_options")
        if isinstance(ini, dict):
            return ini
        # pytest 9's native `[tool.pytest]` (TOML types: lists stay lists).
        return pytest_table or None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    wanted = {
        "pytest.ini": "pytest",
        ".pytest.ini": "pytest",
        "tox.ini": "pytest",
        "setup.cfg": "tool:pytest",
    }[name]
    if not parser.has_section(wanted):
        # pytest.ini is the config file even when empty.
        return {} if name in ("pytest.ini", ".pytest.ini") else None
    return dict(parser.items(wanted))


def load_grabber_toml(path: Path) -> dict[str, Any]:
    """Read a grabber.toml: `markers = [...]` (custom markers) and `only = [...]`."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    section = doc.get("grabber", doc)
    result: dict[str, Any] = {}
    for key in ("markers", "only"):
        if key in section:
            value = section[key]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{path}: '{key}' must be a list of strings")
            result[key] = tuple(value)
    # Tables other modules read from the same file (policy.load_policy: [policy];
    # enrich.settings: [enrich], [tickets]).
    unknown = set(section) - {"markers", "only", "policy", "enrich", "tickets"}
    if section is doc:
        unknown -= {"grabber", *FLEET_KEYS}
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s): {', '.join(sorted(unknown))}")
    return result


def build_settings(
    markers: tuple[str, ...] = (),
    only: tuple[str, ...] = (),
    config: Path | None = None,
) -> Settings:
    """Settings from the command line (`--marker`, `--only`) and an optional grabber.toml."""
    custom: tuple[str, ...] = DEFAULT_CUSTOM_MARKERS
    restrict: tuple[str, ...] = ()
    if config is not None:
        loaded = load_grabber_toml(config)
        custom = loaded.get("markers", custom)
        restrict = loaded.get("only", restrict)
    custom = tuple(dict.fromkeys(custom + tuple(markers)))
    if only:
        restrict = tuple(dict.fromkeys(only))
    for name in custom + restrict:
        if not name.replace("_", "a").replace("-", "a").isalnum():
            raise ConfigError(f"not a marker name: {name!r}")
    known = BUILTIN_KINDS + custom + OTHER_KINDS
    unknown = [name for name in restrict if name not in known]
    if unknown:
        # A typo here would make a CI gate pass forever; custom markers need --marker first.
        raise ConfigError(
            f"unknown kind {unknown[0]!r} for --only (known: {', '.join(known)}; "
            "add a custom marker with --marker NAME)"
        )
    return Settings(custom_markers=custom, only=restrict)
