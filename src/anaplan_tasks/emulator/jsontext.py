"""JSON and numbers from untrusted text, with the limits every route needs.

- `load_json`: `json.loads` with a nesting limit. Deeply nested JSON (`[[[[…]]]]` a thousand
  levels down) made the decoder raise RecursionError, which no route expected (a 500); here it
  is a ValueError like any other malformed body, and values nested deeper than
  `MAX_JSON_DEPTH` are refused before anything walks them.
- `is_number`: ASCII digits only. `str.isdigit()` also accepts `"²"` (which `int()` refuses:
  a 500) and Arabic-Indic one, `"\u0661"` (which `int()` reads as 1: chunk 1 overwritten).
"""

from __future__ import annotations

import json
from typing import Any

MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects accepted in a JSON body (Anaplan's need a handful)."""


class JsonTooDeep(ValueError):
    """A JSON document nested deeper than `MAX_JSON_DEPTH`."""


def load_json(text: str | bytes) -> Any:
    """Parse JSON; raises ValueError (JsonTooDeep when nested too deep) for anything else."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise JsonTooDeep(f"JSON nested more than {MAX_JSON_DEPTH} levels deep") from None
    if json_depth(value) > MAX_JSON_DEPTH:
        raise JsonTooDeep(f"JSON nested more than {MAX_JSON_DEPTH} levels deep")
    return value


def json_depth(value: Any) -> int:
    """How deep arrays and objects nest in a parsed JSON value (a scalar: 0). Iterative."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict):
            children: Any = current.values()
        elif isinstance(current, list):
            children = current
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            return deepest
        stack.extend((child, depth) for child in children)
    return deepest


def is_number(text: str) -> bool:
    """Whether `text` is a non-empty run of ASCII digits 0-9."""
    return text.isascii() and text.isdigit()
