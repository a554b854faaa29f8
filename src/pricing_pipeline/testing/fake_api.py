"""A local stand-in for Frankfurter and Fake Store, on raw sockets, that misbehaves on request: the
API of the tests and of the benchmark (no machine here reaches the real ones).

Each path has a queue of actions played one per request; once it is empty the path's default
action answers, else the fallback (e.g. serve_ecb_and_recordings: any rates range from the ECB
file, the catalogue and any category from the recordings), else 404. Every request is counted by path.

Raw sockets, not http.server, so that a handler can hang, drop the connection without answering
or send fewer bytes than its Content-Length announces. Every connection is closed after one
answer (Connection: close), so a count of requests is a count of connections with a request line.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import zipfile
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote


@dataclass(frozen=True)
class Respond:
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    content_type: str = "application/json"


@dataclass(frozen=True)
class Hang:
    """Read the request, answer nothing; close after `seconds` or when the server is released/stopped."""

    seconds: float = 300.0


@dataclass(frozen=True)
class Drop:
    """Read the request and close the connection without a byte of answer."""


@dataclass(frozen=True)
class Truncate:
    """Announce the whole body (Content-Length, unless with_length=False) and send only `keep` bytes."""

    body: bytes
    keep: int
    with_length: bool = True


REASONS = {
    200: "OK",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    400: "Bad Request",
    403: "Forbidden",
}


NOT_FOUND = Respond(404, b'{"error": "not found"}')


class FaultServer:
    def __init__(self, defaults: dict[str, object] | None = None, fallback: Callable[[str], object] | None = None):
        self.defaults = dict(defaults or {})
        self.fallback = fallback
        self.queues: dict[str, deque] = {}
        self.counts: Counter = Counter()
        self.requests: list[str] = []
        self.released = threading.Event()
        self.stopped = threading.Event()
        self._lock = threading.Lock()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ control

    def script(self, path: str, *actions) -> None:
        """Play these actions on the next requests for path, then its default."""
        with self._lock:
            self.queues.setdefault(path, deque()).extend(actions)

    def count(self, path: str) -> int:
        with self._lock:
            return self.counts[path]

    def total(self) -> int:
        with self._lock:
            return sum(self.counts.values())

    def reset_counts(self) -> None:
        with self._lock:
            self.counts.clear()
            self.requests.clear()

    def release(self) -> None:
        """End every Hang now (the hanging connections are closed unanswered)."""
        self.released.set()

    def stop(self) -> None:
        self.stopped.set()
        self.released.set()
        self._thread.join(timeout=5)
        self._sock.close()

    # ------------------------------------------------------------ serving

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            data = b""
            try:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
            except OSError:
                return
            request_line = data.split(b"\r\n", 1)[0].decode("latin-1")
            parts = request_line.split(" ")
            path = parts[1] if len(parts) == 3 else request_line
            with self._lock:
                self.counts[path] += 1
                self.requests.append(path)
                queue = self.queues.get(path)
                action = queue.popleft() if queue else self.defaults.get(path)
            if action is None:
                action = self.fallback(path) if self.fallback else NOT_FOUND
            with contextlib.suppress(OSError):
                self._play(conn, action)

    def _play(self, conn: socket.socket, action) -> None:
        if isinstance(action, Respond):
            head = [
                f"HTTP/1.1 {action.status} {REASONS.get(action.status, 'Status')}",
                f"Content-Type: {action.content_type}",
                f"Content-Length: {len(action.body)}",
                "Connection: close",
            ]
            head += [f"{name}: {value}" for name, value in action.headers.items()]
            conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + action.body)
        elif isinstance(action, Hang):
            self.released.wait(action.seconds)
        elif isinstance(action, Drop):
            pass  # closing without an answer is the fault
        elif isinstance(action, Truncate):
            head = ["HTTP/1.1 200 OK", "Content-Type: application/json", "Connection: close"]
            if action.with_length:
                head.append(f"Content-Length: {len(action.body)}")
            conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + action.body[: action.keep])
        else:
            raise TypeError(f"unknown action {action!r}")


# ---------------------------------------------------------------- the two APIs from local data


def ecb_rates_by_day() -> dict[str, dict[str, float]]:
    """Every day of the ECB history file: {day: {currency: rate}}, as Frankfurter serves them."""
    from pricing_pipeline.extract.ecb_history import ecb_history_zip

    with zipfile.ZipFile(ecb_history_zip()) as archive:
        lines = archive.read("eurofxref-hist.csv").decode("utf-8").splitlines()
    currencies = lines[0].split(",")[1:]
    by_day = {}
    for line in lines[1:]:
        cells = line.split(",")
        by_day[cells[0]] = {
            c: float(v) for c, v in zip(currencies, cells[1:], strict=False) if c and v not in ("", "N/A")
        }
    return by_day


def recorded_carts(query: str) -> Respond:
    """GET /carts?startdate=..&enddate=.. from the recorded carts, filtered as Fake Store filters."""
    import datetime as dt
    from urllib.parse import parse_qs

    from pricing_pipeline.sales.extract import CARTS_RECORDING, carts_in_window
    from pricing_pipeline.sales.window import SalesWindow

    asked = {key: values[0] for key, values in parse_qs(query).items()}
    start = dt.date.fromisoformat(asked.get("startdate", "1970-01-01"))
    end = dt.date.fromisoformat(asked["enddate"]) - dt.timedelta(days=1)
    return Respond(200, carts_in_window(CARTS_RECORDING.read_bytes(), SalesWindow(start, start, end)))


def serve_ecb_and_recordings(rates_prefix: str = "/frankfurter", products_prefix: str = "/fakestore"):
    """A fallback answering Frankfurter's range endpoint from the ECB file and Fake Store's catalogue
    and category endpoints from the recordings, below the two prefixes (the base URLs a run is given)."""
    from pricing_pipeline.common.categories import ALL_CATEGORIES
    from pricing_pipeline.extract.recordings import recorded_products_body

    rates = ecb_rates_by_day()

    def answer(raw_path: str) -> Respond:
        path = unquote(raw_path)
        if path.startswith(f"{rates_prefix}/") and ".." in path:
            start, end = path.removeprefix(f"{rates_prefix}/").split("..", 1)
            days = {day: day_rates for day, day_rates in rates.items() if start <= day <= end}
            if not days:
                return NOT_FOUND
            body = {
                "amount": 1.0,
                "base": "EUR",
                "start_date": min(days),
                "end_date": max(days),
                "rates": dict(sorted(days.items())),
            }
            return Respond(200, json.dumps(body).encode())
        if path == f"{products_prefix}/products":
            return Respond(200, recorded_products_body(ALL_CATEGORIES))
        if path.startswith(f"{products_prefix}/carts?"):
            return recorded_carts(raw_path.split("?", 1)[1])
        category_prefix = f"{products_prefix}/products/category/"
        if path.startswith(category_prefix):
            body = recorded_products_body(path.removeprefix(category_prefix))
            if body is not None:
                return Respond(200, body)
        return NOT_FOUND

    return answer
