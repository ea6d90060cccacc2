"""The local end of the authorization-code flow: one loopback HTTP listener for the redirect.

It listens on the host and port of the redirect URI (a loopback address: nothing outside this
machine can reach it), answers the browser's `GET <path>?code=…&state=…` with a short page,
and hands the query to the caller. Blocking: the async login runs it in a worker thread.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ..errors import ConfigurationError, OAuthError

_DONE_PAGE = b"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Signed in - anaplan-tasks</title></head>
<body><main><h1>Signed in</h1>
<p>anaplan-tasks has what it needs. You can close this tab and return to your terminal.</p>
</main></body></html>
"""


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RedirectReceiver:
    """Listens on a loopback redirect URI for one authorization answer.

    Raises:
        ConfigurationError: The URI is not `http://<loopback>:<port>/…`, or the port is taken.
    """

    def __init__(self, redirect_uri: str):
        parts = urlsplit(redirect_uri)
        host = parts.hostname or ""
        if parts.scheme != "http" or not _loopback(host) or parts.port is None:
            raise ConfigurationError(
                f"the redirect URI {redirect_uri!r} must be http on a loopback address with a "
                "port (e.g. http://127.0.0.1:8765/callback), registered with the OAuth client"
            )
        self.path = parts.path or "/"
        self._answer: dict[str, str] | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                request = urlsplit(self.path)
                query = dict(parse_qsl(request.query))
                if request.path != receiver.path or not ({"code", "error"} & set(query)):
                    self.send_error(404)
                    return
                receiver._answer = query
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(_DONE_PAGE)))
                self.end_headers()
                self.wfile.write(_DONE_PAGE)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the query holds the code: never logged

        try:
            self._server = HTTPServer((host, parts.port), Handler)
        except OSError as error:
            raise ConfigurationError(
                f"cannot listen on {host}:{parts.port} for the redirect: {error}"
            ) from None
        self._lock = threading.Lock()

    def wait(self, timeout: float) -> dict[str, str]:
        """The redirect's query (`code` and `state`, or `error`); OAuthError after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._answer is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise OAuthError(
                        f"no answer from the browser within {timeout:.0f} s", error="timeout"
                    )
                self._server.timeout = min(left, 0.5)
                self._server.handle_request()
            return self._answer

    def close(self) -> None:
        """Stop listening."""
        self._server.server_close()
