"""Who is calling: the record system's signed JWT, checked as CDS Hooks 2.0 requires.

The token (``Authorization: Bearer``) must carry the header fields the specification makes
required (``alg`` ES384 or RS384, never ``none`` nor an HMAC; ``typ`` JWT; ``kid``) and be
signed by a configured client (its ``iss``) with the key of that ``kid`` in the client's
configured JWK Set, or in the JWK Set at a ``jku`` URL on that client's allow-list (a ``jku``
off the list is refused before anything is fetched). A ``kid`` must name exactly one key.
``aud`` must be this service's endpoint URL; ``exp`` must be in the future and at most five
minutes away; ``iat`` and ``jti`` must be there, and a ``jti`` may be used once (recorded by
the call with its audit entry, in one transaction). CDS Hooks 2.0 has no ``sub`` claim, so
none is required. Development mode skips all of this and says so in every audit entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt

from mesoscreen.config import CdsClient
from mesoscreen.domain.errors import TokenRejectedError as TokenRejectedError

ALGORITHMS = ["ES384", "RS384"]
REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "jti"]
MAX_LIFETIME_SECONDS = 300
LEEWAY_SECONDS = 30
JWKS_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class CdsCaller:
    """An authenticated record system (or the development stand-in), and its token's id and
    expiry, which the call records as used when it records its audit entry."""

    issuer: str
    tenant: str | None = None
    development: bool = False
    jti: str | None = None
    expires_at: datetime | None = None


def _fetch_jwks(url: str, transport: httpx.BaseTransport | None) -> dict[str, Any]:
    """The JWK Set at an allow-listed ``jku`` URL."""
    try:
        with httpx.Client(transport=transport, timeout=JWKS_TIMEOUT_SECONDS) as client:
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
    """The one key of the client's JWK Set that the header's ``kid`` names."""
    jku = header.get("jku")
    if jku is not None:
        if jku not in client.jku:
            raise TokenRejectedError(f"jku {jku!r} is not on this client's allow-list")
        keys: dict[str, Any] = _fetch_jwks(str(jku), transport)
    elif client.jwks is not None:
        keys = dict(client.jwks)
    else:
        raise TokenRejectedError("no jku in the token and no keys configured for this client")
    kid = header["kid"]
    listed = keys.get("keys")
    named = [k for k in listed if isinstance(k, dict) and k.get("kid") == kid] if isinstance(
        listed, list
    ) else []  # fmt: skip
    if not named:
        raise TokenRejectedError(f"no key with kid {kid!r} in the client's JWK Set")
    if len(named) > 1:
        raise TokenRejectedError(f"kid {kid!r} names {len(named)} keys in the client's JWK Set")
    try:
        return jwt.PyJWK.from_dict(named[0]).key
    except jwt.PyJWTError as exc:
        raise TokenRejectedError(f"the key {kid!r} is unusable ({exc})") from None


def _checked_header(token: str) -> dict[str, Any]:
    """The token's header, refused unless it has the fields CDS Hooks requires."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenRejectedError(f"the token is not a JWT ({exc})") from None
    if header.get("alg") not in ALGORITHMS:
        raise TokenRejectedError(f"alg {header.get('alg')!r} refused: use ES384 or RS384")
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.upper() != "JWT":
        raise TokenRejectedError(f"typ {typ!r} refused: expected 'JWT'")
    if not isinstance(header.get("kid"), str) or not header["kid"]:
        raise TokenRejectedError("the token header has no kid naming its signing key")
    return header


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
    header = _checked_header(token)
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise TokenRejectedError(f"the token is not a JWT ({exc})") from None
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or issuer not in clients:
        raise TokenRejectedError(f"issuer {issuer!r} is not a configured CDS client")
    key = _signing_key(header, clients[issuer], transport)
    try:
        verified = jwt.decode(
            token,
            key,
            algorithms=ALGORITHMS,
            audience=audience,
            issuer=issuer,
            # Times are checked below against the service's clock, not the library's.
            options={
                "require": REQUIRED_CLAIMS,
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
        expires = datetime.fromtimestamp(int(verified["exp"]), UTC)
        issued = datetime.fromtimestamp(int(verified["iat"]), UTC)
    except (jwt.PyJWTError, TypeError, ValueError, OverflowError) as exc:
        raise TokenRejectedError(f"token refused: {exc}") from None
    if not isinstance(verified["jti"], str) or not verified["jti"]:
        raise TokenRejectedError("token refused: jti must be a non-empty string")
    current = now()
    ahead = (expires - current).total_seconds()
    if ahead < -LEEWAY_SECONDS:
        raise TokenRejectedError("token refused: it has expired")
    if ahead > MAX_LIFETIME_SECONDS + LEEWAY_SECONDS:
        raise TokenRejectedError("token refused: exp is more than five minutes away")
    if (issued - current).total_seconds() > LEEWAY_SECONDS:
        raise TokenRejectedError("token refused: iat is in the future")
    tenant = verified.get("tenant")
    return CdsCaller(
        issuer,
        tenant=tenant[:100] if isinstance(tenant, str) else None,
        jti=verified["jti"],
        expires_at=expires,
    )
