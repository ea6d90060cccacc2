"""The HTML of the emulator's sign-in pages: server-rendered, no script, accessible.

Every page has a language, a title, banner / main / contentinfo landmarks, one `h1`, labelled
fields with `autocomplete`, errors announced with `role="alert"` and tied to the fields
(`aria-describedby`), visible focus, and colours above WCAG AA contrast (4.5:1). Every value
from a request is escaped.
"""

from __future__ import annotations

from html import escape

_STYLE = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 1rem/1.5 system-ui, sans-serif; color: #1b1b1b; background: #f4f5f7; }
header, footer { background: #0b3d6b; color: #ffffff; padding: 0.75rem 1.5rem; }
header p, footer p { margin: 0; }
main { max-width: 28rem; margin: 2rem auto; padding: 1.5rem; background: #ffffff;
       border: 1px solid #8a8f98; border-radius: 0.5rem; }
h1 { font-size: 1.5rem; margin-top: 0; }
label { display: block; font-weight: 600; margin-top: 1rem; }
input { width: 100%; padding: 0.5rem; font: inherit; color: #1b1b1b;
        border: 1px solid #5a5f68; border-radius: 0.25rem; }
.code { font: 600 1.25rem/1.5 ui-monospace, monospace; letter-spacing: 0.1em; }
.actions { display: flex; gap: 0.75rem; margin-top: 1.5rem; }
button { font: inherit; font-weight: 600; padding: 0.5rem 1.25rem; border-radius: 0.25rem;
         border: 2px solid #0b3d6b; cursor: pointer; }
button.primary { background: #0b5394; border-color: #0b5394; color: #ffffff; }
button.secondary { background: #ffffff; color: #0b3d6b; }
:focus-visible { outline: 3px solid #b35900; outline-offset: 2px; }
.alert { padding: 0.75rem; border-left: 4px solid #a4262c; background: #fdf0f0; color: #5c0f12; }
.done { padding: 0.75rem; border-left: 4px solid #1e6b30; background: #eef7f0; color: #123f1d; }
dl { margin: 0; } dt { font-weight: 600; } dd { margin: 0 0 0.5rem 0; }
"""


def page(title: str, body: str) -> str:
    """A whole page around `body` (HTML already escaped)."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · Anaplan emulator</title>
<style>{_STYLE}</style>
</head>
<body>
<header><p>Anaplan emulator · sign-in</p></header>
<main>
<h1>{escape(title)}</h1>
{body}
</main>
<footer><p>A local emulator of Anaplan's API. It holds no real data.</p></footer>
</body>
</html>
"""


def _alert(error: str | None) -> str:
    if not error:
        return ""
    return f'<p class="alert" id="form-error" role="alert">{escape(error)}</p>\n'


def _credentials(email: str, described: bool) -> str:
    extra = ' aria-describedby="form-error" aria-invalid="true"' if described else ""
    return f"""<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required
 value="{escape(email)}"{extra}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password"
 required{extra}>
"""


def _buttons(approve: str) -> str:
    return f"""<div class="actions">
<button class="primary" type="submit" name="decision" value="approve">{escape(approve)}</button>
<button class="secondary" type="submit" name="decision" value="deny" formnovalidate>Deny</button>
</div>
"""


def device_page(*, csrf: str, user_code: str, email: str = "", error: str | None = None) -> str:
    """Enter (or confirm) a device's user code, sign in, approve or deny."""
    wrong = error is not None
    extra = ' aria-describedby="form-error"' if wrong else ""
    body = f"""<p>A program asks to use Anaplan as you. Check that the code below is the one it
shows, then sign in to approve it.</p>
{_alert(error)}<form method="post" action="/activate">
<input type="hidden" name="csrf" value="{escape(csrf)}">
<label for="user_code">Device code</label>
<input id="user_code" name="user_code" class="code" autocomplete="off" required
 autocapitalize="characters" spellcheck="false" value="{escape(user_code)}"{extra}>
{_credentials(email, wrong)}{_buttons("Approve")}</form>
"""
    return page("Approve a device", body)


def authorize_page(
    *,
    csrf: str,
    request_id: str,
    client_name: str,
    scope: str,
    email: str = "",
    error: str | None = None,
) -> str:
    """Sign in and allow (or deny) an application's authorization request."""
    body = f"""<p>The application <strong>{escape(client_name)}</strong> asks to use Anaplan as
you.</p>
<dl><dt>Access asked for</dt><dd>{escape(scope)}</dd></dl>
{_alert(error)}<form method="post" action="/auth/login">
<input type="hidden" name="csrf" value="{escape(csrf)}">
<input type="hidden" name="request" value="{escape(request_id)}">
{_credentials(email, error is not None)}{_buttons("Sign in and allow")}</form>
"""
    return page("Sign in to Anaplan", body)


def message_page(title: str, message: str, *, ok: bool) -> str:
    """A page that only says something (done, denied, or what went wrong)."""
    css = "done" if ok else "alert"
    role = "status" if ok else "alert"
    return page(title, f'<p class="{css}" role="{role}">{escape(message)}</p>\n')
