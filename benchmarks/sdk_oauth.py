"""anaplan-sdk 0.5.22's OAuth classes sign in against the emulator (a compatibility check).

Run it in the SDK's own environment (never the project's), with the emulator in the project's:

    sh benchmarks/client_venv.sh /tmp/anaplan-bench-venv
    /tmp/anaplan-bench-venv/bin/python benchmarks/sdk_oauth.py --emulator-python .venv/bin/python

It drives `Oauth` and `AsyncOauth` (authorization URL, code exchange, validation, refresh),
`AnaplanRefreshTokenAuth` (a client that refreshes after a 401) and `AnaplanLocalOAuth` (its
interactive prompt answered by a scripted browser) against the demo's authorization-code
client, and prints one line per check; it exits 1 when one fails. oauthlib refuses plain http
unless `OAUTHLIB_INSECURE_TRANSPORT` is set, as it is for any local test server.
"""

from __future__ import annotations

import asyncio
import builtins
import os
import re
import sys
from pathlib import Path
from typing import Any

import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _client_common import RedirectTransport, arguments, emulator

os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"

WEB_CLIENT_ID = "c0de0000c11e4700a000000000000002"
WEB_CLIENT_SECRET = "demo-secret"
REDIRECT_URI = "http://127.0.0.1:8765/callback"
DEMO_USER, DEMO_PASSWORD = "demo@example.com", "demo"


def approve(url: str) -> str:
    """Be the person at the browser: sign in on the page at `url`; the redirect it answers."""
    with httpx2.Client(follow_redirects=False, timeout=30) as http:
        page = http.get(url)
        while page.status_code == 302:  # /auth/authorize → the sign-in page
            page = http.get(httpx2.URL(url).join(page.headers["location"]))
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        request = re.search(r'name="request" value="([^"]+)"', page.text)
        assert csrf, page.text
        assert request, page.text
        answer = http.post(
            httpx2.URL(url).join("/auth/login"),
            data={
                "csrf": csrf.group(1),
                "request": request.group(1),
                "email": DEMO_USER,
                "password": DEMO_PASSWORD,
                "decision": "approve",
            },
        )
        assert answer.status_code == 302, answer.text
        location: str = answer.headers["location"]
        assert location.startswith(REDIRECT_URI), location
        return location


def urls(base_url: str) -> dict[str, str]:
    return {
        "authorization_url": f"{base_url}/auth/prelogin",
        "token_url": f"{base_url}/oauth/token",
        "validation_url": f"{base_url}/token/validate",
    }


def check(name: str, ok: bool, detail: str = "") -> bool:
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f": {detail}" if detail else ""))
    return ok


def main() -> int:
    options = arguments(__doc__ or "").parse_args()
    import anaplan_sdk

    results: list[bool] = []
    with emulator(options.emulator_python) as emu:
        oauth = anaplan_sdk.Oauth(
            WEB_CLIENT_ID, WEB_CLIENT_SECRET, REDIRECT_URI, **urls(emu.base_url)
        )
        url, state = oauth.authorization_url()
        token: dict[str, Any] = oauth.fetch_token(approve(url), state)
        results.append(check("Oauth.fetch_token", bool(token.get("refresh_token"))))
        info = oauth.validate_token(str(token["access_token"]))
        results.append(check("Oauth.validate_token", "tokenInfo" in info))
        renewed = oauth.refresh_token(str(token["refresh_token"]))
        results.append(check("Oauth.refresh_token", bool(renewed.get("access_token"))))

        async def async_flow() -> dict[str, Any]:
            client = anaplan_sdk.AsyncOauth(
                WEB_CLIENT_ID, WEB_CLIENT_SECRET, REDIRECT_URI, **urls(emu.base_url)
            )
            url, state = client.authorization_url()
            location = await asyncio.to_thread(approve, url)
            fetched: dict[str, Any] = await client.fetch_token(location, state)
            return await client.refresh_token(str(fetched["refresh_token"]))

        results.append(
            check("AsyncOauth fetch and refresh", "access_token" in asyncio.run(async_flow()))
        )

        auth = anaplan_sdk.AnaplanRefreshTokenAuth(
            WEB_CLIENT_ID,
            WEB_CLIENT_SECRET,
            REDIRECT_URI,
            token=renewed,
            token_url=f"{emu.base_url}/oauth/token",
        )
        sdk = anaplan_sdk.Client(
            auth=auth,
            workspace_id=emu.workspace_id,
            model_id=emu.dev_model_id,
            transport=RedirectTransport(emu.base_url),
        )
        before = len(sdk.get_files())
        emu.control("POST", "tokens/expire")  # the next call gets a 401 and refreshes
        after = len(sdk.get_files())
        refreshed = auth.token["access_token"] != renewed["access_token"]
        results.append(check("AnaplanRefreshTokenAuth after a 401", before == after and refreshed))

        prompts: list[str] = []

        def scripted_input(prompt: str = "") -> str:
            prompts.append(prompt)
            match = re.search(r"go to (\S+) and", prompt)
            assert match, prompt
            return approve(match.group(1))

        real_input = builtins.input
        builtins.input = scripted_input
        try:
            local = anaplan_sdk.AnaplanLocalOAuth(
                WEB_CLIENT_ID, WEB_CLIENT_SECRET, REDIRECT_URI, **urls(emu.base_url)
            )
        finally:
            builtins.input = real_input
        sdk = anaplan_sdk.Client(
            auth=local,
            workspace_id=emu.workspace_id,
            model_id=emu.dev_model_id,
            transport=RedirectTransport(emu.base_url),
        )
        results.append(
            check("AnaplanLocalOAuth sign-in", len(prompts) == 1 and len(sdk.get_files()) >= 1)
        )
    print(f"{sum(results)} passed, {len(results) - sum(results)} failed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
