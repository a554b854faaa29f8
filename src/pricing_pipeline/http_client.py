"""HTTP policy for both APIs: timeouts, bounded retries with backoff and jitter, clear errors.

One request, retries included, takes at most http_time_bound() seconds; answers/faults.md shows
the arithmetic with the defaults and what each fault does.
"""

from __future__ import annotations

import datetime as dt
import random

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader, MaxRetryError, ResponseError
from urllib3.util.retry import Retry

from . import settings
from .raw_response import RawResponse, SourceError

USER_AGENT = "pricing-pipeline/1.0"

BACKOFF_MAX = 10.0  # the longest backoff pause, before jitter
# 429 and every 5xx are worth another attempt; any other 4xx is final at once.
RETRY_STATUSES = frozenset({429, *range(500, 600)})


def _setting(setting: tuple) -> float:
    try:
        return settings.number(setting)
    except settings.SettingError as error:
        raise SourceError(str(error)) from None


def http_timeout() -> tuple[float, float]:
    """(connect, read) seconds: PIPELINE_HTTP_CONNECT_TIMEOUT and PIPELINE_HTTP_TIMEOUT."""
    return _setting(settings.HTTP_CONNECT_TIMEOUT), _setting(settings.HTTP_READ_TIMEOUT)


def http_retries() -> int:
    return int(_setting(settings.HTTP_RETRIES))


def http_backoff() -> float:
    return _setting(settings.HTTP_BACKOFF)


def http_retry_after_max() -> int:
    return int(_setting(settings.HTTP_RETRY_AFTER_MAX))


def http_time_bound() -> float:
    """The longest one request can take: (retries + 1) attempts of at most connect + read timeout,
    and between two attempts one pause of at most max(backoff_max + jitter, Retry-After cap)."""
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
        fetched_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
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
