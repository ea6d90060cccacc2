"""The import's read-ahead thread: rows in order, errors where they happened, early stops."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from anaplan_tasks.emulator.engine.readahead import read_ahead


def _producer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "import-read-ahead"]


def test_every_row_arrives_in_order_across_batches() -> None:
    rows = list(read_ahead(iter(range(10_007)), batch=100, depth=2))
    assert rows == list(range(10_007))
    assert _producer_threads() == []


def test_state_the_generator_sets_as_it_ends_is_visible_after_the_last_row() -> None:
    seen: dict[str, int] = {}

    def generate() -> Iterator[int]:
        count = 0
        for count in range(1, 5_001):
            yield count
        seen["count"] = count

    assert sum(read_ahead(generate(), batch=64)) == sum(range(1, 5_001))
    assert seen == {"count": 5_000}


def test_an_error_is_raised_after_the_rows_before_it() -> None:
    def generate() -> Iterator[int]:
        yield from range(250)
        raise ValueError("row 251 is malformed")

    received: list[int] = []

    def consume() -> None:
        received.extend(read_ahead(generate(), batch=100))

    with pytest.raises(ValueError, match="row 251 is malformed"):
        consume()
    assert received == list(range(200))  # whole batches only: the third one never completed
    assert _producer_threads() == []


def test_closing_stops_the_producer_of_an_endless_source() -> None:
    produced = 0

    def endless() -> Iterator[int]:
        nonlocal produced
        while True:
            produced += 1
            yield produced

    with read_ahead(endless(), batch=10, depth=2) as rows:
        iterator = iter(rows)
        assert [next(iterator) for _ in range(5)] == [1, 2, 3, 4, 5]
    assert _producer_threads() == []  # joined: it makes no more rows
    assert produced <= 10 * (2 + 3)  # the queue's depth, the batch in hand and one being made


def test_closing_before_iterating_starts_no_thread() -> None:
    with read_ahead(iter(range(100))):
        pass
    assert _producer_threads() == []
