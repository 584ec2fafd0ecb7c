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

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jwt

from mesoscreen.domain.errors import TokenRejectedError as TokenRejectedError
from mesoscreen.services.ports import Clock, FhirClient

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


@dataclass(frozen=True, slots=True)
class ClientKeys:
    """Where a CDS client's signing keys come from: a configured JWK Set, or the JWK Set at
    one of the ``jku`` URLs on its allow-list."""

    jwks: Mapping[str, Any] | None = None
    jku: tuple[str, ...] = ()


@dataclass(slots=True)
class _KeySet:
    """One JWK Set: its keys by ``kid``, each parsed on first use and then kept."""

    by_kid: dict[str, list[Mapping[str, Any]]]
    parsed: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> _KeySet:
        listed = document.get("keys")
        by_kid: dict[str, list[Mapping[str, Any]]] = {}
        for key in listed if isinstance(listed, list) else []:
            if isinstance(key, dict) and isinstance(key.get("kid"), str):
                by_kid.setdefault(key["kid"], []).append(key)
        return cls(by_kid)

    def key(self, kid: str) -> Any:
        """The one key ``kid`` names; TokenRejectedError if none, several, or unusable."""
        found = self.parsed.get(kid)
        if found is not None:
            return found
        named = self.by_kid.get(kid, [])
        if not named:
            raise TokenRejectedError(f"no key with kid {kid!r} in the client's JWK Set")
        if len(named) > 1:
            raise TokenRejectedError(f"kid {kid!r} names {len(named)} keys in the client's JWK Set")
        try:
            found = jwt.PyJWK.from_dict(dict(named[0])).key
        except jwt.PyJWTError as exc:
            raise TokenRejectedError(f"the key {kid!r} is unusable ({exc})") from None
        self.parsed[kid] = found
        return found


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


class TokenVerifier:
    """Checks record systems' bearer tokens against the configured clients.

    Configured JWK Sets are read once and each key is parsed once, on its first use; a JWK
    Set at a ``jku`` URL is fetched (through the ``FhirClient`` port) for each token that
    names it, and only when the URL is on the issuer's allow-list.
    """

    def __init__(
        self, clients: Mapping[str, ClientKeys], clock: Clock, fetcher: FhirClient
    ) -> None:
        self._clients = dict(clients)
        self._clock = clock
        self._fetcher = fetcher
        self._configured = {
            issuer: _KeySet.of(client.jwks)
            for issuer, client in self._clients.items()
            if client.jwks is not None
        }

    def _fetch_jwks(self, url: str) -> Mapping[str, Any]:
        """The JWK Set at an allow-listed ``jku`` URL."""
        reply = self._fetcher.get(url, {"Accept": "application/json"}, JWKS_TIMEOUT_SECONDS)
        if reply.failure is not None:
            raise TokenRejectedError(f"jku {url} could not be read ({reply.failure})")
        if not 200 <= reply.status < 300:
            raise TokenRejectedError(f"jku {url} could not be read (HTTPStatusError)")
        try:
            document = reply.json()
        except ValueError as exc:
            raise TokenRejectedError(
                f"jku {url} could not be read ({type(exc).__name__})"
            ) from None
        if not isinstance(document, dict):
            raise TokenRejectedError(f"jku {url} is not a JWK Set")
        return document

    def _signing_key(self, header: Mapping[str, Any], issuer: str) -> Any:
        """The one key of the client's JWK Set that the header's ``kid`` names."""
        client = self._clients[issuer]
        jku = header.get("jku")
        if jku is not None:
            if jku not in client.jku:
                raise TokenRejectedError(f"jku {jku!r} is not on this client's allow-list")
            keys = _KeySet.of(self._fetch_jwks(str(jku)))
        elif issuer in self._configured:
            keys = self._configured[issuer]
        else:
            raise TokenRejectedError("no jku in the token and no keys configured for this client")
        return keys.key(header["kid"])

    def verify(self, authorization: str | None, audience: str) -> CdsCaller:
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
        if not isinstance(issuer, str) or issuer not in self._clients:
            raise TokenRejectedError(f"issuer {issuer!r} is not a configured CDS client")
        key = self._signing_key(header, issuer)
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
        current = self._clock.now()
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
