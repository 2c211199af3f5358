"""Reading a request's query string: every bad value is a 400 with the reason, never a 500 or a silent default."""
from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_ID = 2**31 - 1  # integer columns are 32-bit on PostgreSQL
MAX_PAGE = 10**6
MAX_PER_PAGE = 100
_FIRST_DAY, _LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)


def bad_request(reason: str) -> HTTPException:
    return HTTPException(400, reason)


def integer(params: QueryParams, name: str, default: int, low: int, high: int) -> int:
    """``name`` as an integer in [low, high] (``default`` when absent or empty)."""
    raw = params.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"{name} must be an integer, not {raw!r}") from None
    if not low <= value <= high:
        raise bad_request(f"{name} must be from {low} to {high}, not {value}")
    return value


def identifier(value: int, what: str = "id") -> int:
    """A row id from the path, in the range a row id can have."""
    if not 1 <= value <= MAX_ID:
        raise bad_request(f"{what} must be from 1 to {MAX_ID}, not {value}")
    return value


def choice(params: QueryParams, name: str, allowed: tuple[str, ...]) -> str:
    """``name`` as one of ``allowed`` (the first when absent)."""
    value = params.get(name, "").strip() or allowed[0]
    if value not in allowed:
        raise bad_request(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def text(params: QueryParams, name: str) -> str | None:
    """``name`` stripped, None when absent or blank."""
    return params.get(name, "").strip() or None


def day(params: QueryParams, name: str) -> datetime | None:
    """``name`` as a day (YYYY-MM-DD): its midnight in Asia/Shanghai, as `cqnews search --since` reads it."""
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise bad_request(f"{name} must be a date (YYYY-MM-DD), not {raw!r}") from None
    if not _FIRST_DAY <= value <= _LAST_DAY:
        raise bad_request(f"{name} must be from {_FIRST_DAY} to {_LAST_DAY}, not {raw}")
    return datetime.combine(value, time(), SHANGHAI)
