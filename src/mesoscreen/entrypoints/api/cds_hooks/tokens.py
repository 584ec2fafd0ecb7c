"""Who is calling: the record system's signed JWT, checked as CDS Hooks 2.0 requires.

The token (``Authorization: Bearer``) must be signed with ES384 or RS384 by a configured
client (its issuer), with a key from the client's configured JWK Set or from a ``jku`` URL on
that client's allow-list; ``aud`` must be this service's endpoint URL; ``exp`` must be in the
future and at most five minutes away; a ``jti`` may be used once (recorded by the call with
its audit entry, in one transaction). Development mode skips all
of this and says so in every audit entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt

from mesoscreen.config import CdsClient

ALGORITHMS = ["ES384", "RS384"]
MAX_LIFETIME_SECONDS = 300
LEEWAY_SECONDS = 30


class TokenRejectedError(Exception):
    """The request's token is missing or not acceptable; the message says why (401)."""


@dataclass(frozen=True, slots=True)
class CdsCaller:
    """An authenticated record system (or the development stand-in), and its token's id and
    expiry, which the call records as used when it records its audit entry."""

    issuer: str
    subject: str
    development: bool = False
    jti: str | None = None
    expires_at: datetime | None = None


def _fetch_jwks(url: str, transport: httpx.BaseTransport | None) -> dict[str, Any]:
    """The JWK Set at an allow-listed ``jku`` URL."""
    try:
        with httpx.Client(transport=transport, timeout=5.0) as client:
            response = client.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            document = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise TokenRejectedError(f"jku {url} could not be read ({type(exc).__name__})") from None
    if not isinstance(document, dict):
        raise TokenRejectedError(f"jku {url} is not a JWK Set")
    return document


def _signing_key(
    header: dict[str, Any], client: CdsClient, transport: httpx.BaseTransport | None
) -> Any:
    """The client's key named by the header's ``kid``."""
    jku = header.get("jku")
    if jku is not None:
        if jku not in client.jku:
            raise TokenRejectedError(f"jku {jku!r} is not on this client's allow-list")
        keys: dict[str, Any] = _fetch_jwks(str(jku), transport)
    elif client.jwks is not None:
        keys = dict(client.jwks)
    else:
        raise TokenRejectedError("no jku in the token and no keys configured for this client")
    try:
        key_set = jwt.PyJWKSet.from_dict(keys)
    except jwt.PyJWTError as exc:
        raise TokenRejectedError(f"the client's JWK Set is unusable ({exc})") from None
    kid = header.get("kid")
    for key in key_set.keys:
        if kid is None or key.key_id == kid:
            return key.key
    raise TokenRejectedError(f"no key with kid {kid!r} in the client's JWK Set")


def verify_token(
    authorization: str | None,
    audience: str,
    clients: dict[str, CdsClient],
    now: Callable[[], datetime],
    transport: httpx.BaseTransport | None = None,
) -> CdsCaller:
    """The caller the bearer token proves; TokenRejectedError saying why otherwise."""
    if not authorization or not authorization.startswith("Bearer "):
        raise TokenRejectedError("a Bearer token signed by the record system is required")
    token = authorization.removeprefix("Bearer ").strip()
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise TokenRejectedError(f"the token is not a JWT ({exc})") from None
    if header.get("alg") not in ALGORITHMS:
        raise TokenRejectedError(f"alg {header.get('alg')!r} refused: use ES384 or RS384")
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or issuer not in clients:
        raise TokenRejectedError(f"issuer {issuer!r} is not a configured CDS client")
    client = clients[issuer]
    key = _signing_key(header, client, transport)
    try:
        verified = jwt.decode(
            token,
            key,
            algorithms=ALGORITHMS,
            audience=audience,
            issuer=issuer,
            # Times are checked below against the service's clock, not the library's.
            options={
                "require": ["iss", "sub", "aud", "exp", "iat", "jti"],
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
        expires = datetime.fromtimestamp(int(verified["exp"]), UTC)
        issued = datetime.fromtimestamp(int(verified["iat"]), UTC)
    except (jwt.PyJWTError, TypeError, ValueError, OverflowError) as exc:
        raise TokenRejectedError(f"token refused: {exc}") from None
    current = now()
    ahead = (expires - current).total_seconds()
    if ahead < -LEEWAY_SECONDS:
        raise TokenRejectedError("token refused: it has expired")
    if ahead > MAX_LIFETIME_SECONDS + LEEWAY_SECONDS:
        raise TokenRejectedError("token refused: exp is more than five minutes away")
    if (issued - current).total_seconds() > LEEWAY_SECONDS:
        raise TokenRejectedError("token refused: iat is in the future")
    return CdsCaller(issuer, str(verified["sub"]), jti=str(verified["jti"]), expires_at=expires)
