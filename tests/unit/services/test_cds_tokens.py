"""The CDS client token check, parsed once by the service: every malformed, mis-signed or
mis-claimed token is refused saying why, and a good one names its caller."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from mesoscreen.services.cds_tokens import ClientKeys, TokenRejectedError, TokenVerifier
from mesoscreen.services.ports import HttpReply
from tests.fakes import FrozenClock

ISSUER = "https://ehr.example.org"
AUDIENCE = "https://cds.example.org/cds-services/mesotherapy-order-sign"
CLOCK = FrozenClock()
EC_KEY = ec.generate_private_key(ec.SECP384R1())
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwk(key: Any, kid: str) -> dict[str, Any]:
    public = key.public_key()
    algorithm = jwt.algorithms.ECAlgorithm if isinstance(key, ec.EllipticCurvePrivateKey) else (
        jwt.algorithms.RSAAlgorithm
    )  # fmt: skip
    return {**json.loads(algorithm.to_jwk(public)), "kid": kid}


class NoNetwork:
    def get(self, url: str, headers: Any, timeout_seconds: float) -> HttpReply:
        raise AssertionError("no key set may be fetched")


VERIFIER = TokenVerifier(
    {ISSUER: ClientKeys(jwks={"keys": [_jwk(EC_KEY, "ec"), _jwk(RSA_KEY, "rsa")]},
                        jku=("https://ehr.example.org/jwks",))},
    CLOCK,
    NoNetwork(),
)  # fmt: skip


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(CLOCK.now().timestamp())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 240, "jti": "j-1"}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _token(claims: dict[str, Any] | None = None, key: Any = EC_KEY, alg: str = "ES384",
           **headers: Any) -> str:  # fmt: skip
    return jwt.encode(claims or _claims(), key, alg, headers={"kid": "ec", **headers})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_good_token_names_its_caller_with_its_jti_and_expiry() -> None:
    """Issuer, tenant, jti and expiry come from the verified claims."""
    caller = VERIFIER.verify(f"Bearer {_token(_claims(tenant='t-1'))}", AUDIENCE)
    assert (caller.issuer, caller.tenant, caller.jti) == (ISSUER, "t-1", "j-1")
    assert caller.expires_at == CLOCK.now().replace(microsecond=0) + timedelta(seconds=240)


def test_an_rs384_token_is_checked_with_its_rsa_key() -> None:
    """Both algorithms CDS Hooks recommends are accepted, each with a key of its kind."""
    token = _token(key=RSA_KEY, alg="RS384", kid="rsa")
    assert VERIFIER.verify(f"Bearer {token}", AUDIENCE).jti == "j-1"


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("a.b", "Not enough segments"),
        ("a.b.c.d", "Not enough segments"),
        ("!!!!." + _b64(b"{}") + ".AAAA", "Invalid header padding"),
        (_b64(b'{"alg":"ES384"}') + "===.e30.AAAA", "Invalid header padding"),
        (_b64(b"[1]") + ".e30.AAAA", "header is not a JSON object"),
        (_b64(b"{nope") + ".e30.AAAA", "Invalid header string"),
        (_b64(b'{"alg":"ES384","typ":"JWT","kid":"ec","crit":["exp"]}') + ".e30.AAAA",
         "crit header extensions"),
        (_token(key=RSA_KEY, alg="RS384"), "unusable"),
        (_token(key=RSA_KEY, alg="RS384", kid="rsa")[:-6] + "AAAAAA", "Signature verification"),
        (_token(_claims(aud=["https://elsewhere.example"])), "Audience doesn't match"),
        (_token(_claims(aud=[1])), "Invalid claim format"),
        (_token(_claims(exp="soon")), "(exp) must be an integer"),
        (_token(_claims(iat=True)), "(iat) must be an integer"),
        (_token(_claims(jti="")), "jti must be a non-empty string"),
        (_token(_claims(aud=None)), 'missing the "aud" claim'),
    ],
)  # fmt: skip
def test_a_token_that_is_not_exactly_right_is_refused_saying_why(token: str, message: str) -> None:
    """Shape, encoding, header, key kind, signature and each claim are checked."""
    with pytest.raises(TokenRejectedError, match=message.replace("(", r"\(").replace(")", r"\)")):
        VERIFIER.verify(f"Bearer {token}", AUDIENCE)


def test_an_audience_among_several_is_accepted() -> None:
    """aud may be a list that includes this service's URL."""
    token = _token(_claims(aud=["https://other.example", AUDIENCE]))
    assert VERIFIER.verify(f"Bearer {token}", AUDIENCE).issuer == ISSUER


def test_a_token_whose_key_set_must_be_fetched_is_left_for_a_worker_thread() -> None:
    """verify_offline fetches nothing and says None for an allow-listed jku; a jku off the
    list is refused at once."""
    allowed = _token(jku="https://ehr.example.org/jwks")
    assert VERIFIER.verify_offline(f"Bearer {allowed}", AUDIENCE) is None
    with pytest.raises(TokenRejectedError, match="allow-list"):
        VERIFIER.verify_offline(f"Bearer {_token(jku='https://evil.example/k')}", AUDIENCE)
