"""Per-request context (request id, client IP) that services and logs read without a request."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip: str | None = None


EMPTY = RequestContext()
_current: ContextVar[RequestContext] = ContextVar("shequ_request")


def current() -> RequestContext:
    return _current.get(EMPTY)


def bind(ctx: RequestContext) -> object:
    return _current.set(ctx)


def reset(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]
