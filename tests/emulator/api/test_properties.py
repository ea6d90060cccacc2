"""Properties of the HTTP layer's parsers: any input gives the right bytes or a clean refusal."""

from __future__ import annotations

import gzip
import json
import zlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anaplan_tasks.emulator.api.faults import FaultRule
from anaplan_tasks.emulator.api.files import gunzip_capped
from anaplan_tasks.emulator.api.tasks import parse_task_start
from anaplan_tasks.emulator.errors import BadRequest, PayloadTooLarge

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None)
@given(members=st.lists(st.binary(max_size=2000), min_size=1, max_size=5), level=st.integers(0, 9))
def test_gzip_members_decompress_to_their_concatenation(members: list[bytes], level: int) -> None:
    data = b"".join(gzip.compress(member, compresslevel=level) for member in members)
    assert gunzip_capped(data) == b"".join(members)


@settings(max_examples=100, deadline=None)
@given(payload=st.binary(min_size=1, max_size=5000), limit=st.integers(0, 6000))
def test_the_cap_holds_for_any_payload(payload: bytes, limit: int) -> None:
    data = gzip.compress(payload)
    if len(payload) <= limit:
        assert gunzip_capped(data, limit) == payload
    else:
        with pytest.raises(PayloadTooLarge):
            gunzip_capped(data, limit)


@settings(max_examples=150, deadline=None)
@given(junk=st.binary(max_size=300))
def test_junk_is_refused_cleanly(junk: bytes) -> None:
    try:
        result = gunzip_capped(junk, 10_000)
    except (BadRequest, PayloadTooLarge):
        return
    # Junk that happens to be valid gzip must decode the way the standard library does.
    assert result == gzip.decompress(junk)


@settings(max_examples=100, deadline=None)
@given(payload=st.binary(min_size=1, max_size=3000), cut=st.integers(1, 20))
def test_truncated_gzip_is_a_bad_request(payload: bytes, cut: int) -> None:
    data = gzip.compress(payload)
    with pytest.raises(BadRequest):
        gunzip_capped(data[: max(len(data) - cut, 1)])


def test_a_bomb_stops_at_the_cap() -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = b"".join(compressor.compress(bytes(1 << 20)) for _ in range(64)) + compressor.flush()
    with pytest.raises(PayloadTooLarge):
        gunzip_capped(bomb, limit=1 << 20)


@settings(max_examples=150, deadline=None)
@given(body=st.dictionaries(st.sampled_from(["localeName", "mappingParameters", "x"]), JSON))
def test_task_start_bodies_parse_or_are_refused(body: dict[str, Any]) -> None:
    try:
        start = parse_task_start(body, None)
    except BadRequest:
        return
    assert isinstance(body["localeName"], str)
    assert start.locale_name == body["localeName"]
    assert len(start.mapping_parameters) == len(body.get("mappingParameters") or [])


@settings(max_examples=150, deadline=None)
@given(rule=JSON)
def test_fault_rules_parse_or_are_refused(rule: Any) -> None:
    try:
        parsed = FaultRule.from_wire(rule)
    except ValueError:
        return
    assert parsed.fault in ("status", "reset_before", "reset_after", "latency")
    assert json.loads(json.dumps(parsed.to_wire()))["fault"] == parsed.fault
