"""Repository text in the human formats (issue 9, items 6 and 10): CSV that no reader splits
into a formula, markdown that renders as text (checked with GitHub's own renderer,
cmark-gfm), control and bidi characters visible in markdown, CSV and -v stderr."""

from __future__ import annotations

import csv
import html
import io
import re
from pathlib import Path

import cmarkgfm
import pytest

from tests.records import muted, snapshot_of
from xfail_grabber.cli import main
from xfail_grabber.model import ScanError, Snapshot
from xfail_grabber.sinks.formats import render_csv, render_markdown
from xfail_grabber.sinks.serve.app import create_app
from xfail_grabber.sinks.serve.runner import ServerThread
from xfail_grabber.sinks.serve.state import DataState

FORMULA_START = ("=", "+", "-", "@")


def snapshot_with(*reasons: str, test: str = "test_a", path: str = "tests/test_x.py") -> Snapshot:
    records = (
        muted(f"{test}[{index}]", line=3, path=path, reason=reason)
        for index, reason in enumerate(reasons)
    )
    return snapshot_of(*records, repo="/r")


# -- CSV ------------------------------------------------------------------------------------------

CR_INJECTION = ["ok\r=1+1", "ok\n=1+1", "ok\r\n@SUM(A1)", "\r-2+3", "a\n\n+cmd|' /C calc'!A0"]


def assert_safe_csv(text: str, reasons: list[str]) -> None:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == 1 + len(reasons)
    column = rows[0].index("reason")
    cells = [row[column] for row in rows[1:]]
    for cell, reason in zip(cells, reasons, strict=True):
        # Nothing lost but the quote marks: the text reads as written.
        assert cell.replace("'", "") == reason.replace("'", "")
    # A reader that splits at every CR or LF sees no line starting a formula either.
    for piece in re.split("[\r\n]", text):
        assert not piece.startswith(FORMULA_START), repr(piece)
    # A CR or LF is always inside quotes, but for the LF ending each row.
    quoted = False
    for index, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif char == "\r" or (char == "\n" and index + 1 < len(text) and text[index + 1] == "\n"):
            assert quoted, repr(text[max(0, index - 20) : index + 20])


def test_csv_quotes_line_breaks_and_neutralises_formulas_after_them() -> None:
    text = render_csv(snapshot_with(*CR_INJECTION))
    assert_safe_csv(text, CR_INJECTION)
    assert "\nok\r=" not in text  # was: a bare CR, unquoted, then the formula


def test_muted_csv_over_http_is_the_same() -> None:
    snapshot = snapshot_with(*CR_INJECTION)
    state = DataState(lambda: snapshot)
    state.refresh()
    with ServerThread(create_app(state)) as server:
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", "/muted.csv", headers={"Host": f"127.0.0.1:{server.port}"})
        body = conn.getresponse().read().decode()
        conn.close()
    assert_safe_csv(body, CR_INJECTION)


def test_csv_shows_control_and_bidi_characters() -> None:
    text = render_csv(snapshot_with("red \x1b[31m alarm\x00 \u202eevil"))
    assert "\x1b" not in text and "\x00" not in text and "\u202e" not in text
    assert "red \\x1b[31m alarm\\x00 \\u202eevil" in text


# -- markdown -------------------------------------------------------------------------------------


def rendered(snapshot: Snapshot) -> str:
    return cmarkgfm.github_flavored_markdown_to_html(render_markdown(snapshot))


def cells(page: str) -> list[str]:
    return re.findall(r"<td>(.*?)</td>", page, flags=re.S)


def shown_text(cell: str) -> str:
    """What a reader sees in a cell. GFM links a bare URL to itself (the reader sees where it
    goes); any other link, image or markup fails the test."""
    cell = re.sub(r'<a href="([^"]*)">\1</a>', r"\1", cell)
    assert "<" not in cell, cell
    return html.unescape(cell)


@pytest.mark.parametrize(
    "test",
    [
        "test_a[x` [click](https://evil.example) `y]",
        "test_a[``]",
        "test_a[`]",
        "test_a[a|b]",
        "test_a[&lt;b&gt;]",
    ],
)
def test_a_test_id_stays_inside_its_code_span(test: str) -> None:
    page = rendered(snapshot_with("r", test=test))
    nodeid = f"tests/test_x.py::{test}[0]"
    assert "<a " not in page
    first = cells(page)[0]
    assert first.startswith("<code>") and first.endswith("</code>")
    assert html.unescape(first.removeprefix("<code>").removesuffix("</code>")).strip() == nodeid


@pytest.mark.parametrize(
    "reason",
    [
        "see [the docs](https://evil.example/x)",
        "![tracker](https://evil.example/pixel.png)",
        "<img src=x onerror=alert(1)> & <b>bold</b>",
        "**not bold** _not italic_ ~~not struck~~ `not code`",
        "[ref]: https://evil.example",
    ],
)
def test_a_reason_renders_as_the_text_it_is(reason: str) -> None:
    assert shown_text(cells(rendered(snapshot_with(reason)))[5]) == reason


def test_markdown_makes_control_and_bidi_characters_visible() -> None:
    markdown = render_markdown(
        snapshot_of(
            *snapshot_with("a\x1b[2Jb \u202etxt.exe", test="test_\u202eab").muted,
            repo="/r\x1b]8;;x\x07",
            branch=None,
            commit=None,
            errors=(ScanError("tests/\x1bx.py", "bad \x00 byte"),),
        )
    )
    for char in ("\x1b", "\x00", "\x07", "\u202e"):
        assert char not in markdown
    text = html.unescape(cmarkgfm.github_flavored_markdown_to_html(markdown))
    for shown in ("\\x1b[2J", "\\u202etxt.exe", "test_\\u202eab", "tests/\\x1bx.py", "\\x00"):
        assert shown in text


# -- stderr ---------------------------------------------------------------------------------------


def test_verbose_stderr_shows_control_characters_from_the_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "test_\x1b[2J\u202ex.py"
    (tmp_path / name).write_text("import pytest\n@pytest.mark.skip\ndef test_a():\n    print 'x'\n")
    assert main(["-v", "dump", str(tmp_path), "--workers", "1"]) == 0
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\u202e" not in err
    assert "test_\\x1b[2J\\u202ex.py" in err  # the fallback's note names the file
