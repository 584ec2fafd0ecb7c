"""The pages' cookies: their names, and the attributes that keep them from scripts and other sites.

Every cookie the server sets is HttpOnly and SameSite. They are Secure (and then named with the
``__Host-`` prefix, so no other host or path can plant them) as configured, or else whenever
the browser is not on this machine: a clinic reaching the server over its network must use
TLS, while ``http://127.0.0.1`` keeps working for a single-machine install and for tests.
"""

from __future__ import annotations

import hashlib
import ipaddress
from functools import lru_cache
from typing import Literal

from fastapi import Request
from fastapi.responses import Response

from mesoscreen.config import Settings

SESSION = "mesoscreen_session"  # the same name the API's cookie sign-in uses
CSRF = "mesoscreen_csrf"  # the session's CSRF token, echoed into each form by the server
FORM_TOKEN = "mesoscreen_form"  # noqa: S105  # a cookie name, not a secret; the CSRF token of forms posted before sign-in (double submit)
LANGUAGE = "mesoscreen_language"  # the language last chosen in this browser
TIME_ZONE = "mesoscreen_tz"  # the browser's time zone, set by app.js (not HttpOnly)
# The browser's key to the form it posted after its session timed out (see services.kept_forms).
KEPT_FORM = "mesoscreen_kept"
KEPT_FORM_S = 3600
ONE_YEAR_S = 31_536_000


@lru_cache(maxsize=1024)
def _loopback(host: str | None) -> bool:
    """Whether ``host`` is this machine (kept per address: a page asks a few times)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def secure_cookies(request: Request, settings: Settings) -> bool:
    """Whether cookies must be Secure: as configured, else over TLS or from another machine."""
    if settings.cookie_secure is not None:
        return settings.cookie_secure
    client = request.client.host if request.client else None
    return request.url.scheme == "https" or not _loopback(client)


def cookie_name(base: str, secure: bool) -> str:
    """The name a cookie has under the request's security (``__Host-`` prefixed when Secure)."""
    return f"__Host-{base}" if secure else base


def personal_language_cookie(user_id: str) -> str:
    """The cookie that holds one user's language in this browser (a shared tablet keeps each
    user's choice); named by a hash so the user's id is not written in the cookie jar."""
    return f"{LANGUAGE}_{hashlib.sha256(user_id.encode()).hexdigest()[:16]}"


def read_cookie(request: Request, base: str, secure: bool) -> str | None:
    """The cookie ``base`` as this request's security names it."""
    return request.cookies.get(cookie_name(base, secure))


def set_cookie(
    response: Response,
    base: str,
    value: str,
    secure: bool,
    max_age: int,
    samesite: Literal["strict", "lax"] = "strict",
) -> None:
    """Set an HttpOnly cookie on the whole site."""
    response.set_cookie(
        cookie_name(base, secure),
        value,
        max_age=max_age,
        path="/",
        secure=secure,
        httponly=True,
        samesite=samesite,
    )


def delete_cookie(response: Response, base: str, secure: bool) -> None:
    """Remove a cookie set by ``set_cookie``."""
    response.delete_cookie(cookie_name(base, secure), path="/", secure=secure, httponly=True)
