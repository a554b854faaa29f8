"""What every source returns: a body exactly as received, with where and when it came from."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from pricing_pipeline.common.errors import PipelineError


class SourceError(PipelineError, RuntimeError):
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
