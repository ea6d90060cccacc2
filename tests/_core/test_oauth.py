"""The OAuth flows, scripted: device polling, refresh with a lost answer, the store protocol."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from anaplan_tasks._core import oauth
from anaplan_tasks._core.flow import Request, Response
from anaplan_tasks._core.oauth import DeviceCode, OAuthCredentials, SavedTokens
from anaplan_tasks.errors import ConfigurationError, OAuthError, ServerError, TransportError

from .scripted import Scripted, json_response


class MemoryStore:
    """A token store in a dict that records whether it was locked when used."""

    def __init__(self, saved: SavedTokens | None = None):
        self.entries: dict[str, SavedTokens] = {} if saved is None else {KEY: saved}
        self.locked = False
        self.saves = 0

    def try_lock(self) -> MemoryStore | None:
        if self.locked:
            return None
        self.locked = True
        return self

    def release(self) -> None:
        self.locked = False

    def load(self, key: str) -> SavedTokens | None:
        assert self.locked
        return self.entries.get(key)

    def save(self, key: str, tokens: SavedTokens) -> None:
        assert self.locked
        self.saves += 1
        self.entries[key] = tokens

    def delete(self, key: str) -> bool:
        assert self.locked
        return self.entries.pop(key, None) is not None


KEY = "https://oauth.test#client"


def credentials(store: MemoryStore) -> OAuthCredentials:
    return OAuthCredentials("client", store, oauth_base_url="https://oauth.test")


def answers(*items: Response | BaseException) -> Iterator[Response | BaseException]:
    return iter(items)


def handler_of(items: Iterator[Response | BaseException]):  # type: ignore[no-untyped-def]
    def handle(request: Request) -> Response:
        item = next(items)
        if isinstance(item, BaseException):
            raise item
        return item

    return handle


def oauth_error(code: str, status: int = 400) -> Response:
    return json_response(status, {"error": code, "error_description": "…"})


TOKENS = {"access_token": "a2", "refresh_token": "r2", "expires_in": 2100, "scope": "openid"}
DEVICE = DeviceCode("dc", "ABCD-EFGH", "https://oauth.test/activate", None, 900.0, 5.0)


def test_device_polling_waits_slows_down_and_returns_tokens() -> None:
    script = Scripted(
        handler_of(
            answers(
                oauth_error("authorization_pending"),
                oauth_error("slow_down"),
                oauth_error("authorization_pending"),
                json_response(200, TOKENS),
            )
        )
    )
    tokens = script.run(oauth.poll_device(script.context(), credentials(MemoryStore()), DEVICE))
    assert tokens.access_token == "a2"
    assert tokens.refresh_token == "r2"
    assert tokens.expires_at == tokens.obtained_at + 2100
    assert script.sleeps == [5.0, 5.0, 10.0, 10.0]
    body = script.sent[0].json
    assert body["grant_type"] == oauth.DEVICE_GRANT
    assert body["device_code"] == "dc"
    assert "client_secret" not in body


@pytest.mark.parametrize("code", ["access_denied", "expired_token", "invalid_grant"])
def test_device_polling_stops_on_other_errors(code: str) -> None:
    script = Scripted(handler_of(answers(oauth_error(code))))
    with pytest.raises(OAuthError) as stopped:
        script.run(oauth.poll_device(script.context(), credentials(MemoryStore()), DEVICE))
    assert stopped.value.error == code
    assert len(script.sent) == 1


def test_device_polling_gives_up_when_the_code_expires() -> None:
    short = DeviceCode("dc", "ABCD-EFGH", "u", None, 12.0, 5.0)
    script = Scripted(handler_of(iter([oauth_error("authorization_pending")] * 10)))
    with pytest.raises(OAuthError) as expired:
        script.run(oauth.poll_device(script.context(), credentials(MemoryStore()), short))
    assert expired.value.error == "expired_token"
    assert len(script.sent) == 2


def obtain(store: MemoryStore, script: Scripted, usable: bool = False) -> SavedTokens:
    flow = oauth.obtain(script.context(), credentials(store), lambda saved: usable)
    result: SavedTokens = script.run(flow)
    return result


def test_obtain_uses_a_usable_saved_token_without_refreshing() -> None:
    store = MemoryStore(SavedTokens("r1", "a1", 10.0, 0.0))
    script = Scripted(handler_of(answers()))
    assert obtain(store, script, usable=True).access_token == "a1"
    assert script.sent == []
    assert not store.locked


def test_obtain_refreshes_and_saves_before_answering() -> None:
    store = MemoryStore(SavedTokens("r1", "a1", 10.0, 0.0))
    script = Scripted(handler_of(answers(json_response(200, TOKENS))))
    tokens = obtain(store, script)
    assert tokens.access_token == "a2"
    assert store.entries[KEY] == tokens
    assert script.sent[0].json["refresh_token"] == "r1"
    assert script.sent[0].retry == "start"
    assert not store.locked


def test_a_refresh_without_a_new_refresh_token_keeps_the_old_one() -> None:
    store = MemoryStore(SavedTokens("r1"))
    answer = {key: value for key, value in TOKENS.items() if key != "refresh_token"}
    script = Scripted(handler_of(answers(json_response(200, answer))))
    assert obtain(store, script).refresh_token == "r1"


@pytest.mark.parametrize(
    "lost",
    [
        TransportError("reset", request_sent=True),
        ServerError("boom", status_code=500),
    ],
)
def test_a_lost_refresh_answer_is_asked_once_more(lost: BaseException) -> None:
    store = MemoryStore(SavedTokens("r1"))
    script = Scripted(handler_of(answers(lost, oauth_error("invalid_grant"))))
    with pytest.raises(OAuthError, match="anaplan-tasks login") as refused:
        obtain(store, script)
    assert "lost" in str(refused.value)
    assert len(script.sent) == 2
    assert store.entries[KEY] == SavedTokens("r1")
    assert store.saves == 0
    assert not store.locked


def test_a_second_lost_answer_is_not_asked_again() -> None:
    store = MemoryStore(SavedTokens("r1"))
    script = Scripted(
        handler_of(
            answers(
                TransportError("reset", request_sent=True),
                TransportError("reset", request_sent=True),
            )
        )
    )
    with pytest.raises(TransportError):
        obtain(store, script)
    assert len(script.sent) == 2


def test_nothing_saved_means_sign_in_first() -> None:
    script = Scripted(handler_of(answers()))
    with pytest.raises(OAuthError, match="anaplan-tasks login") as missing:
        obtain(MemoryStore(), script)
    assert missing.value.error == "login_required"


def test_saved_tokens_round_trip_and_reject_junk() -> None:
    tokens = SavedTokens("r", "a", 3.0, 1.0, "openid")
    assert SavedTokens.from_json(tokens.to_json()) == tokens
    assert SavedTokens.from_json({"refresh_token": 7}) is None
    assert SavedTokens.from_json({}) is None
    assert SavedTokens.from_json("x") is None


def test_the_authorize_url_carries_state_and_the_exact_redirect() -> None:
    url = oauth.authorize_url(credentials(MemoryStore()), "http://127.0.0.1:8765/callback", "s-1")
    assert url.startswith("https://oauth.test/auth/authorize?response_type=code&client_id=client")
    assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback" in url
    assert "state=s-1" in url


class BusyStore(MemoryStore):
    """Locked by another program for the first `busy` tries."""

    def __init__(self, busy: int, saved: SavedTokens | None = None):
        super().__init__(saved)
        self.busy = busy
        self.tries = 0

    def try_lock(self) -> MemoryStore | None:
        self.tries += 1
        if self.tries <= self.busy:
            return None
        return super().try_lock()


def test_obtain_waits_for_another_programs_lock() -> None:
    store = BusyStore(3, SavedTokens("r1", "a1", 10.0, 0.0))
    script = Scripted(handler_of(answers()))
    assert obtain(store, script, usable=True).access_token == "a1"
    assert script.sleeps == [oauth.LOCK_POLL] * 3


def test_a_lock_never_released_is_an_error_not_a_hang() -> None:
    store = BusyStore(10**9, SavedTokens("r1"))
    script = Scripted(handler_of(answers()))
    with pytest.raises(ConfigurationError, match="stayed locked"):
        obtain(store, script)
    assert script.sent == []


class FullDiskStore(MemoryStore):
    def save(self, key: str, tokens: SavedTokens) -> None:
        raise OSError(28, "No space left on device")


def test_a_rotated_token_that_cannot_be_saved_is_never_used() -> None:
    store = FullDiskStore(SavedTokens("r1", "a1", 10.0, 0.0))
    script = Scripted(handler_of(answers(json_response(200, TOKENS))))
    flow = oauth.obtain(script.context(), credentials(store), lambda saved: False)
    with pytest.raises(OSError, match="No space"):
        script.run(flow)  # the new access token never reaches the caller
    assert store.entries[KEY] == SavedTokens("r1", "a1", 10.0, 0.0)
    assert not store.locked
