"""HTTP policy for both APIs: timeouts, bounded retries with backoff and jitter, clear errors.

One request, retries included, takes at most http_time_bound() seconds; answers/faults.md shows
the arithmetic with the defaults and what each fault does.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import io
import logging
import re
import time
from dataclasses import dataclass

import requests
import tenacity
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, ProtocolError, ProxyError, ReadTimeoutError
from urllib3.util.retry import Retry

from pricing_pipeline.common import settings
from pricing_pipeline.extract.responses import RawResponse, SourceError

USER_AGENT = "pricing-pipeline/1.0"
BODY_CHUNK = 1 << 20
log = logging.getLogger(__name__)

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


# The errors urllib3 reports under requests' own that are worth another attempt: the connection
# could not be made or timed out (ConnectTimeoutError covers NewConnectionError), the read timed
# out, the connection dropped. Any other (a TLS failure, an invalid URL, ...) would fail the same
# way again.
TRANSIENT_ERRORS = (ConnectTimeoutError, ReadTimeoutError, ProtocolError)


@dataclass(frozen=True)
class RetryPolicy:
    """Which outcomes of a GET are tried again, how often and after which pause; http_get runs it
    with tenacity around session.get (the adapter itself retries nothing).

    - 429 and 5xx answers, connection errors, read timeouts and dropped connections are retried, at
      most `retries` times; other 4xx answers and TLS failures are final at once.
    - Before retry n: the Retry-After the answer asks for, else backoff * 2**(n-1), capped at
      backoff_max, plus up to `jitter` seconds of random jitter.
    - Retry-After is honoured up to retry_after_max seconds; an answer asking for a longer wait is
      not retried at all (waiting less than asked would only be refused again): it is final. An
      unreadable Retry-After (or one of 0 s) falls back to the backoff.
    """

    retries: int  # PIPELINE_HTTP_RETRIES: attempts after the first
    backoff: float  # PIPELINE_HTTP_BACKOFF: the first pause, doubling at each retry
    retry_after_max: int  # PIPELINE_HTTP_RETRY_AFTER_MAX
    backoff_max: float = BACKOFF_MAX
    statuses: frozenset[int] = RETRY_STATUSES

    @classmethod
    def from_settings(cls) -> RetryPolicy:
        return cls(retries=http_retries(), backoff=http_backoff(), retry_after_max=http_retry_after_max())

    @property
    def jitter(self) -> float:
        return max(self.backoff, 0.01)

    def retries_error(self, error: BaseException) -> bool:
        reason = next((cause.reason for cause in _causes(error) if isinstance(cause, MaxRetryError)), None)
        if isinstance(reason, ProxyError):
            reason = reason.original_error
        return isinstance(reason, TRANSIENT_ERRORS)

    def retries_response(self, response: requests.Response) -> bool:
        return response.status_code in self.statuses and not self.waits_too_long(response)

    def waits_too_long(self, response: requests.Response) -> bool:
        """True when the answer asks to retry later than this policy waits."""
        wait = retry_after(response)
        return wait is not None and wait > self.retry_after_max

    def retrying(self) -> tenacity.Retrying:
        exponential = tenacity.wait_exponential(multiplier=self.backoff, max=self.backoff_max)  # from retry 1 on
        backoff = exponential + tenacity.wait_random(0, self.jitter)

        def pause(state: tenacity.RetryCallState) -> float:
            asked = None if state.outcome.failed else retry_after(state.outcome.result())
            return asked or backoff(state)  # waits_too_long made sure asked <= retry_after_max

        return tenacity.Retrying(
            retry=tenacity.retry_if_exception(self.retries_error) | tenacity.retry_if_result(self.retries_response),
            stop=tenacity.stop_after_attempt(self.retries + 1),
            wait=pause,
            before_sleep=_before_retry,
            # Out of attempts: the last answer is returned, or the last error raised, as it is.
            retry_error_callback=lambda state: state.outcome.result(),
        )


def _before_retry(state: tenacity.RetryCallState) -> None:
    """Say what is retried and when (a retry is worth a line in the run's record), then free the
    answer that will not be read."""
    if state.outcome.failed:
        what = _reason_of(state.outcome.exception())
    else:
        response = state.outcome.result()
        what = f"HTTP {response.status_code}"
        response.close()
    log.warning("GET %s: %s; attempt %d in %.1f s", state.args[0], what, state.attempt_number + 1, state.upcoming_sleep)


def retry_after(response: requests.Response) -> float | None:
    """Seconds the answer's Retry-After (delay-seconds or an HTTP date) asks to wait, uncapped; None
    if absent or unreadable."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    if re.fullmatch(r"\s*[0-9]+\s*", value):
        return float(int(value))
    date = email.utils.parsedate_tz(value)
    if date is None:
        return None
    try:
        return max(email.utils.mktime_tz(date) - time.time(), 0.0)
    except (OverflowError, ValueError):
        return None


class PipelineSession(requests.Session):
    """A requests session that carries the retry policy http_get applies to it."""

    def __init__(self, retry_policy: RetryPolicy):
        super().__init__()
        self.retry_policy = retry_policy


def http_session() -> PipelineSession:
    """A session whose GETs (through http_get) retry what is worth retrying, a bounded number of times.

    Connection errors, read timeouts, dropped connections, 429 (honouring Retry-After up to a cap)
    and 5xx are retried with exponential backoff and jitter; other 4xx answers and TLS failures are
    final at once (RetryPolicy). TLS certificates are always verified. Takes nothing: the policy
    comes from the PIPELINE_HTTP_* settings; pass the session to fetch_exchange_rates and
    fetch_products so that both requests share its connections.
    """
    session = PipelineSession(RetryPolicy.from_settings())
    session.verify = True
    # No retries in urllib3: RetryPolicy is the only loop. Retry(total=0) (not max_retries=0, which
    # also turns read errors into bare ones) reports every failure as a MaxRetryError with its reason.
    session.mount("http://", HTTPAdapter(max_retries=Retry(total=0)))
    session.mount("https://", HTTPAdapter(max_retries=Retry(total=0)))
    session.headers["User-Agent"] = USER_AGENT
    return session


def http_get(session: requests.Session, name: str, url: str) -> RawResponse:
    """GET one body; raises SourceError naming the URL, the HTTP status and the attempts made."""
    policy = session.retry_policy if isinstance(session, PipelineSession) else RetryPolicy.from_settings()
    timeout = http_timeout()
    attempts = 0

    def attempt(url: str) -> requests.Response:
        nonlocal attempts
        attempts += 1
        return session.get(url, timeout=timeout, stream=True)

    try:
        response = policy.retrying()(attempt, url)
    except (requests.RequestException, urllib3.exceptions.HTTPError) as error:
        raise SourceError(
            f"GET {url} failed after {attempts} attempt(s), no HTTP status: {_reason_of(error)}"
        ) from error
    with response:
        try:
            # In 1 MiB chunks: .content reads 10 KiB at a time, which costs seconds on a catalogue
            # of hundreds of MB. The same errors as .content when the body is cut short.
            body = _joined(response.iter_content(chunk_size=BODY_CHUNK))
        except (requests.RequestException, urllib3.exceptions.HTTPError) as error:
            raise SourceError(
                f"GET {url} answered HTTP {response.status_code} after {attempts} attempt(s) but the body "
                f"was cut short: {_reason_of(error)}"
            ) from error
    if response.status_code >= 400:
        status = response.status_code
        if status not in policy.statuses:
            final = "not retried (a client error)"
        elif policy.waits_too_long(response):
            final = (
                f"not retried: Retry-After asks for {retry_after(response):.0f} s, longer than the "
                f"{policy.retry_after_max} s a run waits (PIPELINE_HTTP_RETRY_AFTER_MAX)"
            )
        else:
            final = f"retries exhausted (PIPELINE_HTTP_RETRIES={policy.retries})"
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


def _joined(chunks) -> bytes:
    """The chunks as one bytes object, never holding two copies of the body: b"".join keeps every
    chunk until the joined copy is made (1.1 GB at once for a 550 MB catalogue). BytesIO grows one
    buffer in place and getvalue() hands that very buffer over, without a copy."""
    buffer = io.BytesIO()
    for chunk in chunks:
        buffer.write(chunk)
    return buffer.getvalue()


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


def _reason_of(error: BaseException) -> str:
    """The innermost useful description: 'Read timed out', 'Connection refused', ..."""
    for current in _causes(error):
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            return f"{type(reason).__name__}: {reason}"
    return f"{type(error).__name__}: {error}"
