"""Bad policy files: one line naming the file, the line and the key; never executed."""

from __future__ import annotations

import pytest

from xfail_grabber.policy.load import PolicyError, glob_pattern, parse_policy


def error(text: str) -> str:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "grabber.toml")
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_unknown_rule() -> None:
    assert error('[policy]\nticket-required = "error"\ntickets-required = "error"\n') == (
        "grabber.toml:3: policy.tickets-required: unknown rule (known: ticket-required, "
        "reason-required, since-required, max-age, strict-xfail, forbid-kinds, known-markers, "
        "closed-ticket, owner-required, budget)"
    )


def test_unknown_option() -> None:
    assert error('[policy]\nmax-age = { severity = "error", maximum = "9d" }\n') == (
        "grabber.toml:2: policy.max-age.maximum: unknown option (known: severity, max)"
    )


def test_unknown_severity() -> None:
    assert error('[policy]\nknown-markers = "erorr"\n') == (
        "grabber.toml:2: policy.known-markers: unknown severity 'erorr' (use error, warning or off)"
    )
    assert error('[policy]\nmax-age = "fatal"\n') == (
        "grabber.toml:2: policy.max-age: unknown severity 'fatal' (use error, warning or off), "
        'and not a max value either: must be a duration in days or weeks, like "90d" or "12w"'
    )
    assert "unknown severity 'fatal'" in error('[policy]\n\n[policy.max-age]\nseverity = "fatal"\n')
    assert error('[policy]\n\n[policy.max-age]\nseverity = "fatal"\n').startswith(
        "grabber.toml:4: policy.max-age.severity:"
    )


def test_wrong_types() -> None:
    assert error("[policy]\nmax-age = 90\n") == (
        'grabber.toml:2: policy.max-age: must be a duration in days or weeks, like "90d" or '
        '"12w" (got 90)'
    )
    assert error('[policy]\nbudget = { max-total = "ten" }\n') == (
        "grabber.toml:2: policy.budget.max-total: must be a whole number >= 0 (got 'ten')"
    )
    assert error("[policy]\nforbid-kinds = [1]\n").startswith(
        "grabber.toml:2: policy.forbid-kinds: must be a list of kinds"
    )
    assert error('[policy]\nstrict-xfail = { mode = "always" }\n').startswith(
        "grabber.toml:2: policy.strict-xfail.mode: must be one of 'require', 'forbid'"
    )
    assert error("[policy]\nticket-required = 3\n").startswith(
        "grabber.toml:2: policy.ticket-required: must be a list of categories"
    )
    assert error('policy = "strict"\n') == "grabber.toml:1: policy: must be a table"


def test_path_entries() -> None:
    text = '[policy]\n\n[[policy.paths]]\nmatch = "a/**"\n\n[[policy.paths]]\nmax-age = "9d"\n'
    assert error(text) == (
        "grabber.toml:6: policy.paths[1].match: must be a glob or a list of globs, "
        'like "tests/legacy/**"'
    )
    text = '[policy]\n[[policy.paths]]\nmatch = "a/**"\nbudget = { max-total = 1 }\n'
    assert error(text) == (
        "grabber.toml:4: policy.paths[0].budget: applies to the whole repository, not per path"
    )
    text = '[policy]\n[[policy.paths]]\nmatch = "a/**"\nmax-age = "soon"\n'
    assert error(text).startswith("grabber.toml:4: policy.paths[0].max-age: unknown severity")


def test_glob_matching_nothing() -> None:
    policy = parse_policy(
        '[policy]\n[[policy.paths]]\nmatch = ["tests/**", "tests/legacy/**"]\n', "grabber.toml"
    )
    with pytest.raises(PolicyError) as caught:
        policy.check_globs(["tests/test_a.py"])
    assert str(caught.value) == (
        "grabber.toml:3: policy.paths[0].match: glob 'tests/legacy/**' matches no file in the "
        "repository"
    )


def test_invalid_toml_and_grabber_table() -> None:
    assert error("[policy\n").startswith("grabber.toml: not valid TOML: ")
    assert error('[grabber.policy]\nmax-age = "x"\n').startswith(
        "grabber.toml:2: policy.max-age: unknown severity 'x'"
    )


def test_the_file_is_data_never_code() -> None:
    # Nothing in a policy is evaluated: an expression is just a string that fails validation.
    assert "unknown severity" in error("[policy]\nmax-age = \"__import__('os').system('x')\"\n")


@pytest.mark.parametrize(
    ("glob", "path", "matches"),
    [
        ("tests/legacy/**", "tests/legacy/a/test_x.py", True),
        ("tests/legacy/**", "tests/legacy2/test_x.py", False),
        ("tests/legacy/", "tests/legacy/test_x.py", True),
        ("tests/*.py", "tests/a/test_x.py", False),
        ("tests/*.py", "tests/test_x.py", True),
        ("test_old*.py", "deep/er/test_old_api.py", True),
        ("**/integration/*", "a/b/integration/test_x.py", True),
        ("tests/test_[ab].py", "tests/test_b.py", True),
        ("tests/test_[!ab].py", "tests/test_b.py", False),
    ],
)
def test_globs(glob: str, path: str, matches: bool) -> None:
    assert bool(glob_pattern(glob).fullmatch(path)) is matches


def test_unknown_kinds_in_options() -> None:
    known = ["xfail", "skip", "skipif", "flaky", "xfailflake"]
    text = (
        "[policy]\nbudget = { max-per-kind = { skip = 1 } }\n\n"
        '[[policy.paths]]\nmatch = "a/**"\nforbid-kinds = ["skip", "skp"]\n'
    )
    policy = parse_policy(text, "grabber.toml")
    with pytest.raises(PolicyError) as caught:
        policy.check_kinds(known)
    assert str(caught.value) == (
        "grabber.toml:6: policy.paths[0].forbid-kinds: unknown kind 'skp' (known: flaky, skip, "
        "skipif, xfail, xfailflake; add a custom marker with `markers = [...]` or --marker)"
    )
    policy = parse_policy("[policy]\nbudget = { max-per-kind = { quarantined = 1 } }\n", "g.toml")
    with pytest.raises(PolicyError, match=r"^g\.toml:2: policy\.budget: unknown kind"):
        policy.check_kinds(known)
    policy.check_kinds([*known, "quarantined"])


def test_a_chain_of_double_stars_stays_fast() -> None:
    pattern = glob_pattern("**/" * 40 + "x.py")
    assert pattern.pattern == r"(?:.*/)?x\.py"  # one optional prefix, not forty
    assert pattern.fullmatch("a/" * 50 + "x.py")
    assert not pattern.fullmatch("a/" * 50 + "y.py")
