"""Approving OAuth requests on the emulator's pages over plain HTTP (no browser), for tests."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx2

from anaplan_tasks.emulator.demo import DEMO_PASSWORD, DEMO_USER


def _csrf(page: httpx2.Response) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


def approve_device(verification_uri_complete: str, decision: str = "approve") -> None:
    """Sign in on the device page and approve (or deny) the code in its URL."""
    with httpx2.Client(timeout=30) as http:
        page = http.get(verification_uri_complete)
        user_code = re.search(r'id="user_code"[^>]*value="([^"]*)"', page.text.replace("\n", " "))
        assert user_code, page.text
        answer = http.post(
            verification_uri_complete.split("?")[0],
            data={
                "csrf": _csrf(page),
                "user_code": user_code.group(1),
                "email": DEMO_USER,
                "password": DEMO_PASSWORD,
                "decision": decision,
            },
        )
        assert answer.status_code == 200, answer.text


def allow_in_background(url: str, decision: str = "approve") -> threading.Thread:
    """Act as the browser of an authorization-code sign-in, in a thread (the login waits)."""

    def browse() -> None:
        with httpx2.Client(timeout=30, follow_redirects=True) as http:
            page = http.get(url)
            request_id = re.search(r'name="request" value="([^"]+)"', page.text)
            assert request_id, page.text
            http.post(
                str(page.url).split("?")[0],
                data={
                    "csrf": _csrf(page),
                    "request": request_id.group(1),
                    "email": DEMO_USER,
                    "password": DEMO_PASSWORD,
                    "decision": decision,
                },
            )

    thread = threading.Thread(target=browse, daemon=True)
    thread.start()
    return thread


@contextmanager
def fast_device_polls(app: object, interval: float = 0.05) -> Iterator[None]:
    """Let device codes be polled every `interval` seconds (Anaplan: 5)."""
    oauth = app.oauth  # type: ignore[attr-defined]
    before = oauth.device_interval
    oauth.device_interval = interval
    try:
        yield
    finally:
        oauth.device_interval = before
