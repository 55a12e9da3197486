"""Reading `[policy]` from a grabber.toml into a Policy (data only: the file is never run).

    [policy]
    ticket-required = "error"                      # a severity: error, warning or off
    reason-required = { severity = "warning", categories = ["muted"] }
    max-age = "90d"                                # a bare value sets the rule's main option
    budget = { max-total = 120, no-increase = true }

    [[policy.paths]]
    match = "tests/legacy/**"                      # later entries win over earlier ones
    max-age = "off"

Every mistake (an unknown rule or option, a wrong type, an unknown severity, a glob that
matches no file) is a PolicyError whose one-line message names the file, the line and the key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..keylines import find_line, key_lines
from .rules import RULES, SEVERITIES, OptionError, Rule

OFF = "off"


class PolicyError(Exception):
    """A policy that cannot be used; the message is one line: file:line: key: problem."""


@dataclass(frozen=True)
class Setting:
    """One rule as it applies somewhere: its severity (None: off) and its options."""

    severity: str | None
    options: Mapping[str, Any]


@dataclass(frozen=True)
class PathRules:
    match: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    given: Mapping[str, Mapping[str, Any]]  # rule -> the fields this entry sets
    key: str  # policy.paths[N], for messages

    def matches(self, path: str) -> bool:
        return any(p.fullmatch(path) for p in self.patterns)


@dataclass(frozen=True)
class Policy:
    given: Mapping[str, Mapping[str, Any]]  # rule -> fields set at the top of [policy]
    paths: tuple[PathRules, ...] = ()
    source: str | None = None  # the file, as named to us
    lines: Mapping[str, int] = field(default_factory=dict)  # rule -> its line in the file
    _memo: dict[str, dict[str, Setting]] = field(default_factory=dict, compare=False)

    def setting(self, rule: Rule, path: str | None = None) -> Setting:
        return self.for_path(path)[rule.name]

    def for_path(self, path: str | None) -> dict[str, Setting]:
        """Every rule's setting for a file (None: the top-level settings)."""
        key = "" if path is None else "/" + path
        found = self._memo.get(key)
        if found is None:
            layers = [self.given] + [p.given for p in self.paths if path and p.matches(path)]
            found = {name: _resolve(rule, layers) for name, rule in RULES.items()}
            self._memo[key] = found
        return found

    def enabled(self) -> list[str]:
        """Rules on anywhere (at the top or in a path entry)."""
        names = [n for n, s in self.for_path(None).items() if s.severity]
        for entry in self.paths:
            names += [n for n, g in entry.given.items() if g.get("severity")]
        return list(dict.fromkeys(n for n in RULES if n in names))

    def check_globs(self, files: Iterable[str]) -> None:
        """A `match` glob that matches none of the repository's files is a mistake."""
        paths = list(files)
        for entry in self.paths:
            for glob, pattern in zip(entry.match, entry.patterns, strict=True):
                if not any(pattern.fullmatch(p) for p in paths):
                    raise PolicyError(
                        self._where(f"{entry.key}.match")
                        + f"glob {glob!r} matches no file in the repository"
                    )

    def check_kinds(self, known: Iterable[str]) -> None:
        """Kinds named in options (forbid-kinds, max-per-kind) must be kinds the scan reports:
        a misspelt one would make a rule that can never fire."""
        names = set(known)
        layers = [("policy", self.given)] + [(p.key, p.given) for p in self.paths]
        for where, given in layers:
            for rule_name, fields in given.items():
                for option in RULES[rule_name].options:
                    if not option.holds_kinds or option.name not in fields:
                        continue
                    for kind in fields[option.name]:
                        if kind not in names:
                            raise PolicyError(
                                self._where(f"{where}.{rule_name}")
                                + f"unknown kind {kind!r} (known: {', '.join(sorted(names))}; "
                                "add a custom marker with `markers = [...]` or --marker)"
                            )

    def line_of(self, key: str) -> int:
        return find_line(self.lines, key)

    def _where(self, key: str) -> str:
        return f"{self.source}:{self.line_of(key)}: {key}: "


def _resolve(rule: Rule, layers: list[Mapping[str, Mapping[str, Any]]]) -> Setting:
    merged: dict[str, Any] = {}
    for layer in layers:
        merged.update(layer.get(rule.name, {}))
    severity = merged.pop("severity", None)
    options = {o.name: merged.get(o.name, o.default) for o in rule.options}
    return Setting(severity, options)


DEFAULT_POLICY = Policy(
    {
        name: {"severity": rule.default_severity}
        for name, rule in RULES.items()
        if rule.default_severity
    },
    source="(default policy)",
)


# Globs -----------------------------------------------------------------------------------


def glob_pattern(glob: str) -> re.Pattern[str]:
    """A gitignore-like glob: `*` and `?` stay within a directory, `**` crosses them, a glob
    without a slash matches the file name anywhere, and `dir/` or `dir/**` all below dir."""
    if glob.endswith("/"):
        glob += "**"
    while "**/**/" in glob:  # the same set of paths; a long chain would backtrack badly
        glob = glob.replace("**/**/", "**/")
    anchored = "/" in glob.rstrip("/")
    glob = glob.lstrip("/")
    out = []
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        elif glob[i] == "[" and "]" in glob[i + 2 :]:
            end = glob.index("]", i + 2)
            body = glob[i + 1 : end].replace("\\", "\\\\")
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append(f"[{body}]")
            i = end + 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    prefix = "" if anchored else "(?:.*/)?"
    return re.compile(prefix + "".join(out))


# Reading ---------------------------------------------------------------------------------


def load_policy(path: Path, *, required: bool = False) -> Policy:
    """The policy of a grabber.toml; the default policy when it has no [policy] table."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError(f"{path}: policy file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: cannot read: {exc}") from None
    return parse_policy(text, str(path), required=required)


def parse_policy(text: str, source: str, *, required: bool = False) -> Policy:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{source}: not valid TOML: {exc}") from None
    lines = key_lines(text)
    top = doc.get("grabber", doc)
    section = top.get("policy") if isinstance(top, dict) else None
    prefix = "policy" if top is doc else "grabber.policy"
    if section is None:
        if required:
            raise PolicyError(f"{source}: no [policy] table")
        return DEFAULT_POLICY

    def fail(key: str, problem: str) -> PolicyError:
        shown = key.removeprefix("grabber.")
        return PolicyError(f"{source}:{find_line(lines, key)}: {shown}: {problem}")

    if not isinstance(section, dict):
        raise fail(prefix, "must be a table")
    given: dict[str, dict[str, Any]] = {}
    paths: list[PathRules] = []
    for name, value in section.items():
        key = f"{prefix}.{name}"
        if name == "paths":
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                raise fail(key, "must be an array of tables ([[policy.paths]])")
            for index, entry in enumerate(value):
                paths.append(_path_entry(entry, f"{key}[{index}]", fail))
            continue
        rule = _rule(name, key, fail)
        given[name] = _rule_value(rule, value, key, fail, top=True)
    shown = {key.removeprefix("grabber."): line for key, line in lines.items()}
    return Policy(given, tuple(paths), source, shown)


def _rule(name: str, key: str, fail: Any) -> Rule:
    rule = RULES.get(name)
    if rule is None:
        raise fail(key, f"unknown rule (known: {', '.join(RULES)})")
    return rule


def _path_entry(entry: dict[str, Any], key: str, fail: Any) -> PathRules:
    match = entry.get("match")
    if isinstance(match, str):
        match = [match]
    if not isinstance(match, list) or not match or not all(isinstance(m, str) and m for m in match):
        raise fail(f"{key}.match", 'must be a glob or a list of globs, like "tests/legacy/**"')
    given: dict[str, dict[str, Any]] = {}
    for name, value in entry.items():
        if name == "match":
            continue
        rule = _rule(name, f"{key}.{name}", fail)
        if not rule.per_path:
            raise fail(f"{key}.{name}", "applies to the whole repository, not per path")
        given[name] = _rule_value(rule, value, f"{key}.{name}", fail, top=False)
    shown = key.removeprefix("grabber.")
    return PathRules(tuple(match), tuple(glob_pattern(m) for m in match), given, shown)


def _rule_value(rule: Rule, value: Any, key: str, fail: Any, *, top: bool) -> dict[str, Any]:
    """The fields a rule's value sets: severity and/or options (validated)."""
    if isinstance(value, bool):
        return {"severity": "error" if value else None}
    if isinstance(value, str) and (value in SEVERITIES or value == OFF):
        return {"severity": None if value == OFF else value}
    fields: dict[str, Any] = {}
    if isinstance(value, dict):
        for option, raw in value.items():
            if option == "severity":
                if raw not in (*SEVERITIES, OFF):
                    raise fail(
                        f"{key}.severity",
                        f"unknown severity {raw!r} (use {', '.join(SEVERITIES)} or {OFF})",
                    )
                fields["severity"] = None if raw == OFF else raw
                continue
            spec = rule.option_map.get(option)
            if spec is None:
                known = ", ".join(["severity", *rule.option_map]) or "severity"
                raise fail(f"{key}.{option}", f"unknown option (known: {known})")
            fields[option] = _parse(spec.parse, raw, f"{key}.{option}", fail)
    elif rule.shorthand is not None and (not isinstance(value, str) or _looks_like(rule, value)):
        fields[rule.shorthand] = _parse(rule.option_map[rule.shorthand].parse, value, key, fail)
    elif isinstance(value, str):
        problem = f"unknown severity {value!r} (use {', '.join(SEVERITIES)} or {OFF})"
        if rule.shorthand is not None:
            try:
                rule.option_map[rule.shorthand].parse(value)
            except OptionError as exc:
                problem += f", and not a {rule.shorthand} value either: {exc}"
        raise fail(key, problem)
    else:
        raise fail(key, f"must be a severity ({', '.join(SEVERITIES)}, {OFF}) or a table")
    if top and "severity" not in fields:
        fields["severity"] = "error"  # `max-age = "90d"` turns the rule on
    return fields


def _looks_like(rule: Rule, value: str) -> bool:
    """Whether a bare string is meant as the rule's main option rather than a severity."""
    assert rule.shorthand is not None
    try:
        rule.option_map[rule.shorthand].parse(value)
    except OptionError:
        return False
    return True


def _parse(parse: Any, raw: Any, key: str, fail: Any) -> Any:
    try:
        return parse(raw)
    except OptionError as exc:
        raise fail(key, f"{exc} (got {_show(raw)})") from None


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
