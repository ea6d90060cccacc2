"""`anaplan-tasks login` and `logout`: OAuth 2.0 sign-in saved in a token store.

`login` runs the device flow (prints the code and the URL, opens the browser when it can, waits
with a spinner); `login --browser` the authorization-code flow with a local redirect. The
sign-in is saved; commands then use it whenever `oauth_client_id` (`ANAPLAN_OAUTH_CLIENT_ID`, a
profile's `oauth_client_id`) is set and no password or certificate is.
"""

from __future__ import annotations

import contextlib
import os
import webbrowser
from typing import Any

import click

from .._core.oauth import DeviceCode, OAuthCredentials
from ..client import browser_login, device_login
from ..client._async.login import DEFAULT_REDIRECT_URI
from ..client.config import ClientConfig, oauth_credentials
from ..client.token_store import forget_sign_in
from . import render
from .exit_codes import ExitCode
from .options import common_options, current_settings
from .settings import load_profile


def _environment() -> dict[str, str]:
    """The environment as the profile completes it (variables win over the profile)."""
    settings = current_settings()
    profile = load_profile(settings.profile, settings.profile_file, os.environ)
    return {**profile, **{key: value for key, value in os.environ.items() if value}}


def _settings(client_id: str | None, region: str | None) -> dict[str, Any]:
    environ = _environment()
    settings: dict[str, Any] = {"env": environ}
    if current_settings().base_url:
        settings["base_url"] = current_settings().base_url
    if region:
        settings["region"] = region
    if client_id:
        settings["client_id"] = client_id
    return settings


def _open(url: str, enabled: bool) -> bool:
    if not enabled:
        return False
    try:
        return webbrowser.open(url)
    except webbrowser.Error:
        return False


def _signed_in(credentials: OAuthCredentials) -> int:
    if current_settings().json_output:
        render.emit_json(
            {
                "signedIn": True,
                "clientId": credentials.client_id,
                "oauthBaseUrl": credentials.base_url,
                "store": repr(credentials.store),
            }
        )
    else:
        render.console.print(
            f"Signed in with OAuth client {credentials.client_id} at {credentials.base_url}; "
            f"saved in {credentials.store!r}."
        )
    return ExitCode.OK


@click.command()
@click.option(
    "--browser",
    "use_browser",
    is_flag=True,
    help="Authorization-code flow in this machine's browser, with a local redirect "
    "(default: the device flow, approved from any browser).",
)
@click.option("--client-id", metavar="ID", help="The OAuth client (ANAPLAN_OAUTH_CLIENT_ID).")
@click.option(
    "--client-secret",
    metavar="TEXT",
    help="Its secret, for --browser (ANAPLAN_OAUTH_CLIENT_SECRET).",
)
@click.option(
    "--redirect-uri",
    metavar="URL",
    help=f"Local redirect for --browser, as registered (ANAPLAN_OAUTH_REDIRECT_URI; "
    f"default {DEFAULT_REDIRECT_URI}).",
)
@click.option("--region", metavar="CODE", help="Your tenant's region, e.g. eu3 (ANAPLAN_REGION).")
@click.option("--no-open", is_flag=True, help="Only print the URL; do not open a browser.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=300.0,
    show_default=True,
    help="Seconds to wait for the approval (--browser).",
)
@common_options
def login(
    use_browser: bool,
    client_id: str | None,
    client_secret: str | None,
    redirect_uri: str | None,
    region: str | None,
    no_open: bool,
    timeout: float,
) -> int:
    """Sign in with OAuth 2.0 and save the sign-in for later commands."""
    settings = _settings(client_id, region)
    environ = settings["env"]
    if use_browser:
        uri = redirect_uri or environ.get("ANAPLAN_OAUTH_REDIRECT_URI") or DEFAULT_REDIRECT_URI

        def show_url(url: str) -> None:
            render.print_note(f"Sign in at: {url}")

        with render.working("Waiting for you to sign in in the browser…"):
            credentials = browser_login(
                client_secret=client_secret,
                redirect_uri=uri,
                open_browser=None if no_open else webbrowser.open,
                on_url=show_url,
                timeout=timeout,
                **settings,
            )
        return _signed_in(credentials)

    with contextlib.ExitStack() as waiting:

        def show_code(code: DeviceCode) -> None:
            url = code.verification_uri_complete or code.verification_uri
            render.error_console.print(
                f"To sign in, open [bold]{code.verification_uri}[/bold] and enter the code "
                f"[bold]{code.user_code}[/bold]\n(or open {url})",
                highlight=False,
            )
            if _open(url, not no_open):
                render.print_note("Opened your browser.")
            waiting.enter_context(render.working("Waiting for the code to be approved…"))

        credentials = device_login(on_code=show_code, **settings)
    return _signed_in(credentials)


@click.command()
@click.option("--client-id", metavar="ID", help="The OAuth client (ANAPLAN_OAUTH_CLIENT_ID).")
@click.option("--region", metavar="CODE", help="Your tenant's region (ANAPLAN_REGION).")
@common_options
def logout(client_id: str | None, region: str | None) -> int:
    """Forget the saved OAuth sign-in (the last access token expires within 35 minutes)."""
    settings = _settings(None, region)
    credentials = oauth_credentials(client_id=client_id, env=settings["env"])
    resolved = ClientConfig.resolve(credentials=credentials, **settings).credentials
    assert isinstance(resolved, OAuthCredentials)
    credentials = resolved
    forgot = forget_sign_in(credentials)
    if current_settings().json_output:
        render.emit_json({"signedOut": forgot, "clientId": credentials.client_id})
    elif forgot:
        render.console.print(f"Signed out: forgot the sign-in of {credentials.client_id}.")
    else:
        render.console.print(f"No saved sign-in for OAuth client {credentials.client_id}.")
    return ExitCode.OK
