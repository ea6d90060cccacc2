"""Turning source text into stored values, per format, and what a bad value is called."""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from datetime import date
from functools import lru_cache
from typing import Any

from ..definitions import Format

Converter = Callable[[str], Any]
"""Text → stored value; raises ValueError (or KeyError) for a malformed value."""

_TRUE = ("true", "yes", "1")
_FALSE = ("false", "no", "0")
_BOOLEANS = {
    **{spelling: "true" for word in _TRUE for spelling in (word, word.upper(), word.title())},
    **{spelling: "false" for word in _FALSE for spelling in (word, word.upper(), word.title())},
}


def to_number(text: str) -> float | None:
    """A finite number; blank is None."""
    if not text:
        return None
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


@lru_cache(maxsize=1 << 16)
def to_date(text: str) -> str | None:
    """A date written YYYY-MM-DD; blank is None (cached: a file repeats its dates)."""
    if not text:
        return None
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise ValueError(text)
    date.fromisoformat(text)
    return text


def to_boolean(text: str) -> str | None:
    """`true`/`false` (also yes/no, 1/0, any case) as the JSON text to store; blank is None."""
    found = _BOOLEANS.get(text)
    if found is not None:
        return found
    if not text:
        return None
    return _BOOLEANS[text.lower()]


def to_text(text: str) -> str:
    """Text as given."""
    return text


def member_of(known: Collection[str]) -> Converter:
    """A converter accepting only the codes or names in `known` (a list-formatted value)."""

    def convert(text: str) -> str | None:
        if not text:
            return None
        if text not in known:
            raise KeyError(text)
        return text

    return convert


def converter(fmt: Format, known: Collection[str] = ()) -> Converter:
    """The converter of a format."""
    if fmt == "number":
        return to_number
    if fmt == "date":
        return to_date
    if fmt == "boolean":
        return to_boolean
    if fmt == "list":
        return member_of(known)
    return to_text


def storage_kind(fmt: Format) -> str:
    """How the store keeps a value of this format (see `storage.protocol.ValueKind`)."""
    return "boolean" if fmt == "boolean" else "json"


def problem_text(fmt: Format, text: str, list_name: str | None) -> str:
    """The dump's error text for a malformed value."""
    if fmt == "number":
        return f"Invalid number: {text}"
    if fmt == "date":
        return f"Invalid date: {text} (expected YYYY-MM-DD)"
    if fmt == "boolean":
        return f"Invalid boolean: {text}"
    if fmt == "list":
        return f"Item not located in {list_name} list: {text}"
    return f"Invalid value: {text}"


def format_value(value: Any) -> str:
    """A stored value as export text: integral numbers without `.0`, booleans lower-case."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)
