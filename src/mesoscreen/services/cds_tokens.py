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

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jwt
import orjson

from mesoscreen.domain.errors import TokenRejectedError as TokenRejectedError
from mesoscreen.services.ports import Clock, FhirClient

ALGORITHMS = ["ES384", "RS384"]
REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "jti"]
MAX_LIFETIME_SECONDS = 300
LEEWAY_SECONDS = 30
JWKS_TIMEOUT_SECONDS = 5.0
_ALGORITHMS = {name: jwt.algorithms.get_default_algorithms()[name] for name in ALGORITHMS}
_BASE64URL = re.compile(rb"[A-Za-z0-9_-]*")


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
    """One JWK Set: its keys by ``kid``, each parsed on first use (per algorithm) and kept."""

    by_kid: dict[str, list[Mapping[str, Any]]]
    parsed: dict[tuple[str, str], Any] = field(default_factory=dict)

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> _KeySet:
        listed = document.get("keys")
        by_kid: dict[str, list[Mapping[str, Any]]] = {}
        for key in listed if isinstance(listed, list) else []:
            if isinstance(key, dict) and isinstance(key.get("kid"), str):
                by_kid.setdefault(key["kid"], []).append(key)
        return cls(by_kid)

    def key(self, kid: str, alg: str) -> Any:
        """The one key ``kid`` names, ready for ``alg``; TokenRejectedError if there is none,
        several, or it is unusable or of another kind than ``alg`` needs."""
        found = self.parsed.get((kid, alg))
        if found is not None:
            return found
        named = self.by_kid.get(kid, [])
        if not named:
            raise TokenRejectedError(f"no key with kid {kid!r} in the client's JWK Set")
        if len(named) > 1:
            raise TokenRejectedError(f"kid {kid!r} names {len(named)} keys in the client's JWK Set")
        try:
            found = _ALGORITHMS[alg].prepare_key(jwt.PyJWK.from_dict(dict(named[0])).key)
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise TokenRejectedError(f"the key {kid!r} is unusable ({exc})") from None
        self.parsed[(kid, alg)] = found
        return found


@dataclass(frozen=True, slots=True)
class _Token:
    """A compact JWS split once: its header, its claims, what was signed and the signature."""

    header: dict[str, Any]
    claims: dict[str, Any]
    signed: bytes
    signature: bytes


def _segment(data: bytes, name: str) -> bytes:
    """One base64url segment decoded: only the alphabet, at most the padding RFC 4648 allows,
    and the one encoding of its bytes (no stray bits), as PyJWT checks."""
    stripped = data.rstrip(b"=")
    padding = len(data) - len(stripped)
    if (
        padding > 2
        or (padding and len(data) % 4)
        or len(stripped) % 4 == 1
        or not _BASE64URL.fullmatch(stripped)
    ):
        raise TokenRejectedError(f"the token is not a JWT (Invalid {name} padding)")
    decoded = base64.urlsafe_b64decode(stripped + b"=" * (-len(stripped) % 4))
    if base64.urlsafe_b64encode(decoded).rstrip(b"=") != stripped:
        raise TokenRejectedError(f"the token is not a JWT (Invalid {name} padding)")
    return decoded


def _json_object(data: bytes, name: str) -> dict[str, Any]:
    """A segment's JSON object; TokenRejectedError for anything else."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise TokenRejectedError(f"the token is not a JWT (Invalid {name} string)") from None
    if not isinstance(value, dict):
        raise TokenRejectedError(f"the token is not a JWT ({name} is not a JSON object)")
    return value


def _split(token: str) -> _Token:
    """The token's parts, refused unless it is a compact JWS whose header has the fields CDS
    Hooks requires (``alg`` ES384 or RS384, ``typ`` JWT, a ``kid``) and whose payload is a
    JSON object."""
    raw = token.encode()
    if raw.count(b".") != 2:
        raise TokenRejectedError("the token is not a JWT (Not enough segments)")
    head, body, signature = raw.split(b".")
    header = _json_object(_segment(head, "header"), "header")
    if header.get("alg") not in ALGORITHMS:
        raise TokenRejectedError(f"alg {header.get('alg')!r} refused: use ES384 or RS384")
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.upper() != "JWT":
        raise TokenRejectedError(f"typ {typ!r} refused: expected 'JWT'")
    if not isinstance(header.get("kid"), str) or not header["kid"]:
        raise TokenRejectedError("the token header has no kid naming its signing key")
    if "crit" in header:
        # RFC 7515 4.1.11: extensions a recipient does not understand make the token invalid.
        raise TokenRejectedError("token refused: its crit header extensions are not supported")
    claims = _json_object(_segment(body, "payload"), "payload")
    return _Token(header, claims, head + b"." + body, _segment(signature, "crypto"))


def _checked_claims(claims: Mapping[str, Any], audience: str) -> tuple[datetime, datetime, str]:
    """Expiry, issue time and jti of signed claims that name this service (PyJWT's words)."""
    for claim in REQUIRED_CLAIMS:
        if claim not in claims:
            raise TokenRejectedError(f'token refused: Token is missing the "{claim}" claim')
    named = claims["aud"]
    audiences = [named] if isinstance(named, str) else named
    if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
        raise TokenRejectedError("token refused: Invalid claim format in token")
    if audience not in audiences:
        raise TokenRejectedError("token refused: Audience doesn't match")
    times = []
    for claim, name in (("exp", "Expiration Time"), ("iat", "Issued At")):
        value = claims[claim]
        if not isinstance(value, int) or isinstance(value, bool):
            raise TokenRejectedError(f"token refused: {name} claim ({claim}) must be an integer.")
        try:
            times.append(datetime.fromtimestamp(value, UTC))
        except (OverflowError, OSError, ValueError) as exc:
            raise TokenRejectedError(f"token refused: {exc}") from None
    jti = claims["jti"]
    if not isinstance(jti, str) or not jti:
        raise TokenRejectedError("token refused: jti must be a non-empty string")
    return times[0], times[1], jti


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

    def _signing_key(self, header: Mapping[str, Any], issuer: str, fetch: bool) -> Any:
        """The one key of the client's JWK Set that the header's ``kid`` names; None when it
        would have to be fetched and ``fetch`` is False."""
        client = self._clients[issuer]
        jku = header.get("jku")
        if jku is not None:
            if jku not in client.jku:
                raise TokenRejectedError(f"jku {jku!r} is not on this client's allow-list")
            if not fetch:
                return None
            keys = _KeySet.of(self._fetch_jwks(str(jku)))
        elif issuer in self._configured:
            keys = self._configured[issuer]
        else:
            raise TokenRejectedError("no jku in the token and no keys configured for this client")
        return keys.key(header["kid"], header["alg"])

    def verify(self, authorization: str | None, audience: str) -> CdsCaller:
        """The caller the bearer token proves; TokenRejectedError saying why otherwise."""
        caller = self._verify(authorization, audience, fetch=True)
        assert caller is not None  # noqa: S101 (with fetch, a key is found or refused)
        return caller

    def verify_offline(self, authorization: str | None, audience: str) -> CdsCaller | None:
        """As ``verify``, but None, having done nothing slow, when the token's key set must be
        fetched over the network (an allow-listed ``jku``): then call ``verify`` off the event
        loop. Every refusal that needs no fetch is raised here."""
        return self._verify(authorization, audience, fetch=False)

    def _verify(self, authorization: str | None, audience: str, fetch: bool) -> CdsCaller | None:
        if not authorization or not authorization.startswith("Bearer "):
            raise TokenRejectedError("a Bearer token signed by the record system is required")
        token = _split(authorization.removeprefix("Bearer ").strip())
        issuer = token.claims.get("iss")
        if not isinstance(issuer, str) or issuer not in self._clients:
            raise TokenRejectedError(f"issuer {issuer!r} is not a configured CDS client")
        key = self._signing_key(token.header, issuer, fetch)
        if key is None:
            return None
        if not _ALGORITHMS[token.header["alg"]].verify(token.signed, key, token.signature):
            raise TokenRejectedError("token refused: Signature verification failed")
        expires, issued, jti = _checked_claims(token.claims, audience)
        current = self._clock.now()
        ahead = (expires - current).total_seconds()
        if ahead < -LEEWAY_SECONDS:
            raise TokenRejectedError("token refused: it has expired")
        if ahead > MAX_LIFETIME_SECONDS + LEEWAY_SECONDS:
            raise TokenRejectedError("token refused: exp is more than five minutes away")
        if (issued - current).total_seconds() > LEEWAY_SECONDS:
            raise TokenRejectedError("token refused: iat is in the future")
        tenant = token.claims.get("tenant")
        return CdsCaller(
            issuer,
            tenant=tenant[:100] if isinstance(tenant, str) else None,
            jti=jti,
            expires_at=expires,
        )
