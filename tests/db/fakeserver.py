"""A PostgreSQL-protocol stand-in that asks for a password and refuses it.

The local server trusts every loopback login, so it cannot answer "wrong password"; this
speaks just enough of the wire protocol (startup, cleartext password request, FATAL 28P01)
for libpq to report a real authentication failure.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def _read_exact(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("client left")
        data += chunk
    return data


def _error(code: str, message: str) -> bytes:
    fields = b"".join(
        tag + value.encode() + b"\0"
        for tag, value in ((b"S", "FATAL"), (b"V", "FATAL"), (b"C", code), (b"M", message))
    )
    body = fields + b"\0"
    return b"E" + struct.pack("!I", len(body) + 4) + body


def _serve(listener: socket.socket, received: list[bytes], stop: threading.Event) -> None:
    listener.settimeout(0.05)
    while not stop.is_set():
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        except OSError:
            return
        with conn:
            conn.settimeout(10)
            try:
                length = struct.unpack("!I", _read_exact(conn, 4))[0]
                startup = _read_exact(conn, length - 4)
                user = startup[4:].split(b"\0")[1].decode()
                conn.sendall(b"R" + struct.pack("!II", 8, 3))  # cleartext password, please
                tag = _read_exact(conn, 1)
                length = struct.unpack("!I", _read_exact(conn, 4))[0]
                received.append(tag + _read_exact(conn, length - 4))
                conn.sendall(_error("28P01", f'password authentication failed for user "{user}"'))
            except (OSError, ConnectionError, IndexError, struct.error):
                continue


@contextmanager
def refusing_server() -> Iterator[tuple[int, list[bytes]]]:
    """(port, password messages received) of a server on 127.0.0.1 that refuses every login."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    received: list[bytes] = []
    stop = threading.Event()
    thread = threading.Thread(target=_serve, args=(listener, received, stop), daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], received
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
