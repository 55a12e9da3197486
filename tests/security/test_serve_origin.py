"""`grabber serve` answers only to its own Host names and refuses cross-site requests that
change state (issue 9, item 12): DNS rebinding and CSRF against a dashboard on localhost."""

from __future__ import annotations

import http.client
from collections.abc import Iterator

import pytest

from xfail_grabber.sinks.serve.guard import allowed_hosts

from .bounded import serving


def request(port: int, method: str, path: str, **headers: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest(method, path, skip_host="Host" in headers)
        for name, value in headers.items():
            conn.putheader(name.replace("_", "-"), value)
        conn.endheaders()
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    repo = tmp_path_factory.mktemp("repo")
    (repo / "test_a.py").write_text("import pytest\n@pytest.mark.skip\ndef test_a(): pass\n")
    with serving(repo, "--refresh", "0", "--allowed-host", "Dash.Example.") as served:
        yield served.port


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("127.0.0.1:{port}", 200),
        ("localhost:{port}", 200),
        ("LOCALHOST", 200),
        ("dash.example:{port}", 200),
        ("evil.example:{port}", 421),  # DNS rebinding: the attacker's name, our address
        ("127.0.0.1.evil.example", 421),
        ("[::1]:{port}", 200),
        ("[::2]:{port}", 421),
    ],
)
def test_the_host_header_must_name_this_server(port: int, host: str, status: int) -> None:
    assert request(port, "GET", "/api/info", Host=host.format(port=port)) == status


def test_cross_site_posts_are_refused(port: int) -> None:
    own = f"http://127.0.0.1:{port}"
    assert request(port, "POST", "/refresh", Origin="https://evil.example") == 403
    assert request(port, "POST", "/refresh", Origin="null") == 403
    assert request(port, "POST", "/refresh", Sec_Fetch_Site="cross-site") == 403
    assert request(port, "POST", "/refresh", Sec_Fetch_Site="same-site") == 403
    assert request(port, "POST", "/refresh", Origin=f"http://localhost:{port}") == 403
    # The dashboard's own button, and clients that are not browsers, still refresh.
    assert request(port, "POST", "/refresh", Origin=own, Sec_Fetch_Site="same-origin") == 202
    assert request(port, "POST", "/refresh") == 202
    # Reading stays open to any page the browser allows (CORS keeps the answer from it).
    assert request(port, "GET", "/api/info", Sec_Fetch_Site="cross-site") == 200


def test_allowed_hosts_by_bind_address() -> None:
    assert allowed_hosts("127.0.0.1") == {"127.0.0.1", "localhost", "::1"}
    assert allowed_hosts("::1", ["a.example"]) == {"127.0.0.1", "localhost", "::1", "a.example"}
    assert allowed_hosts("10.1.2.3") == {"10.1.2.3"}
    assert allowed_hosts("grabber.internal") == {"grabber.internal"}
    # Every interface: the operator chose to expose it; names restrict it when given.
    assert allowed_hosts("0.0.0.0") is None  # noqa: S104
    assert allowed_hosts("::", ["grabber.example"]) == {
        "grabber.example",
        "127.0.0.1",
        "localhost",
        "::1",
    }
    assert allowed_hosts("127.0.0.1", ["*"]) is None
