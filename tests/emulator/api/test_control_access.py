"""Who may call the control routes: loopback peers, or whoever holds the control token.

A non-loopback peer is played through the ASGI transport (which sets the peer address the app
sees), since the tests talk over loopback only; the token checks run over a real socket.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from anaplan_tasks.emulator.__main__ import parse_arguments
from anaplan_tasks.emulator.api import ControlGate, EmulatorApp
from anaplan_tasks.emulator.server import RunningEmulator, control_gate, run_emulator

from ..subprocess_server import EmulatorProcess
from .conftest import assert_error

DEFINITION = '{"users": [{"email": "intruder@example.com", "password": "x"}]}'


def peer(app: EmulatorApp, address: str) -> httpx2.AsyncClient:
    transport = httpx2.ASGITransport(app=app, client=(address, 40000))
    return httpx2.AsyncClient(transport=transport, base_url="http://emulator")


@pytest.mark.parametrize("address", ["203.0.113.7", "10.1.2.3", "::ffff:10.1.2.3", "2001:db8::1"])
async def test_a_remote_peer_is_refused_and_changes_nothing(
    emulator: RunningEmulator, address: str
) -> None:
    emulator.control.reset()
    async with peer(emulator.app, address) as remote:
        assert_error(await remote.get("/_emulator/faults"), 403)
        assert_error(await remote.post("/_emulator/reset"), 403)
        assert_error(await remote.post("/_emulator/definitions", content=DEFINITION), 403)
        assert (await remote.get("/_emulator/health")).status_code == 200  # harmless, open
    assert emulator.engine.authenticate_basic("intruder@example.com", "x") is None


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"])
async def test_loopback_peers_need_no_token(emulator: RunningEmulator, address: str) -> None:
    async with peer(emulator.app, address) as local:
        assert (await local.get("/_emulator/faults")).status_code == 200


async def test_a_remote_peer_with_the_token_is_let_in(emulator: RunningEmulator) -> None:
    app = EmulatorApp(emulator.engine, control=ControlGate(token="s3cret"))
    async with peer(app, "203.0.113.7") as remote:
        assert_error(await remote.get("/_emulator/faults"), 401)
        wrong = {"Authorization": "Bearer guess"}
        assert_error(await remote.get("/_emulator/faults", headers=wrong), 401)
        right = {"Authorization": "Bearer s3cret"}
        assert (await remote.get("/_emulator/faults", headers=right)).status_code == 200


async def test_disabled_control_routes_answer_404_to_everyone(emulator: RunningEmulator) -> None:
    gate = control_gate("0.0.0.0", None)
    assert not gate.enabled
    app = EmulatorApp(emulator.engine, control=gate)
    async with peer(app, "127.0.0.1") as local:
        assert_error(await local.post("/_emulator/reset"), 404)
        assert (await local.get("/_emulator/health")).status_code == 200
        assert (await local.get("/_emulator/openapi.json")).status_code == 200


def test_serve_disables_control_on_other_interfaces_unless_given_a_token() -> None:
    assert control_gate("127.0.0.1", None) == ControlGate(enabled=True, token=None)
    assert control_gate("::1", None).enabled
    assert not control_gate("0.0.0.0", None).enabled
    assert not control_gate("192.0.2.10", None).enabled
    assert control_gate("0.0.0.0", "s3cret") == ControlGate(enabled=True, token="s3cret")
    assert parse_arguments(["--control-token", "s3cret"]).control_token == "s3cret"
    assert parse_arguments([]).control_token is None


@pytest.fixture
def guarded() -> Iterator[RunningEmulator]:
    with run_emulator(demo=True, control_token="s3cret") as running:
        yield running


def test_with_a_token_even_loopback_must_show_it(guarded: RunningEmulator) -> None:
    with httpx2.Client(base_url=guarded.base_url) as http:
        assert_error(http.post("/_emulator/reset"), 401)
        reset = http.post("/_emulator/reset", headers={"Authorization": "Bearer s3cret"})
        assert reset.status_code == 204
        assert http.get("/_emulator/health").status_code == 200


@pytest.mark.parametrize("how", ["option", "environment"])
def test_the_module_takes_a_control_token(how: str) -> None:
    arguments = ["--memory", "--control-token", "s3cret"] if how == "option" else ["--memory"]
    env = {"ANAPLAN_EMULATOR_CONTROL_TOKEN": "s3cret"} if how == "environment" else {}
    server = EmulatorProcess(arguments, env=env)
    try:
        with httpx2.Client(base_url=server.base_url, timeout=30) as http:
            assert_error(http.post("/_emulator/reset"), 401)
            token = {"Authorization": "Bearer s3cret"}
            assert http.post("/_emulator/reset", headers=token).status_code == 204
    finally:
        server.terminate()
