"""A record system's side of CDS Hooks: signing keys, tokens, a FHIR server double, a client."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
import warnings
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mesoscreen.bootstrap import Services, build_services
from mesoscreen.entrypoints.api import create_app
from tests.factories import records_settings
from tests.fakes import FrozenClock

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

ISSUER = "https://ehr.example.org"
JKU_ISSUER = "https://other-ehr.example.org"
JKU_URL = "https://other-ehr.example.org/.well-known/jwks.json"
FHIR_SERVER = "https://fhir.ehr.example.org/r4"
MESOTHERAPY = {"system": "https://mesoscreen.org/fhir/CodeSystem/procedure",
               "code": "scalp-mesotherapy"}  # fmt: skip


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwk(key: ec.EllipticCurvePrivateKey, kid: str) -> dict[str, Any]:
    """The public JWK of ``key`` under ``kid``."""
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    return {**public, "kid": kid, "alg": "ES384", "use": "sig"}


class Keys:
    """The record systems' signing keys and a token minter."""

    def __init__(self, clock: FrozenClock) -> None:
        self.clock = clock
        self.ehr = ec.generate_private_key(ec.SECP384R1())
        self.other = ec.generate_private_key(ec.SECP384R1())
        self.stranger = ec.generate_private_key(ec.SECP384R1())

    def token(
        self,
        audience: str,
        *,
        issuer: str = ISSUER,
        key: ec.EllipticCurvePrivateKey | None = None,
        kid: str | None = "ehr-1",
        lifetime: timedelta = timedelta(minutes=4),
        drop: tuple[str, ...] = (),
        headers: dict[str, Any] | None = None,
        jti: str | None = None,
    ) -> str:
        now = self.clock.now()
        # CDS Hooks 2.0 tokens carry no sub claim.
        claims = {"iss": issuer, "aud": audience,
                  "iat": int(now.timestamp()), "exp": int((now + lifetime).timestamp()),
                  "jti": jti or str(uuid.uuid4())}  # fmt: skip
        for name in drop:
            claims.pop(name)
        return jwt.encode(
            claims,
            key or self.ehr,
            algorithm="ES384",
            headers={**({"kid": kid} if kid else {}), **(headers or {})},
        )

    def forged(self, audience: str, header: dict[str, Any], secret: bytes | None) -> str:
        """A token with exactly ``header``, signed with HMAC-SHA256 over ``secret`` (or not
        signed at all when ``secret`` is None): what an attacker would send."""
        now = int(self.clock.now().timestamp())
        claims = {"iss": ISSUER, "aud": audience, "iat": now, "exp": now + 240,
                  "jti": str(uuid.uuid4())}  # fmt: skip
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        if secret is None:
            return signing_input + "."
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(mac)}"

    def ehr_public_pem(self) -> bytes:
        """The record system's public key as PEM (what an HS256 forgery would use as secret)."""
        return self.ehr.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def fill_prefetch(
    templates: dict[str, str], patient_id: str, resources: list[dict[str, Any]]
) -> dict[str, Any]:
    """What a record system sends for discovery's prefetch templates, from its ``resources``.

    Understands the template forms the service uses: ``Type/{{context.patientId}}`` and
    ``Type?patient=..[&code=system|code,..][&status=..]``.
    """
    filled: dict[str, Any] = {}
    for key, template in templates.items():
        query = template.replace("{{context.patientId}}", patient_id)
        if "?" not in query:
            kind, rid = query.split("/")
            filled[key] = next(
                (r for r in resources if r["resourceType"] == kind and r.get("id") == rid), None
            )
            continue
        kind, params = query.split("?", 1)
        wanted = dict(p.split("=", 1) for p in params.split("&"))
        matches = []
        for resource in resources:
            if resource["resourceType"] != kind:
                continue
            owner = (resource.get("subject") or resource.get("patient") or {}).get("reference")
            if owner != f"Patient/{wanted['patient']}":
                continue
            if "status" in wanted and resource.get("status") != wanted["status"]:
                continue
            if "code" in wanted:
                codes = {f"{c.get('system')}|{c.get('code')}"
                         for c in resource.get("code", {}).get("coding", [])}  # fmt: skip
                if not codes & set(wanted["code"].split(",")):
                    continue
            matches.append(resource)
        filled[key] = {"resourceType": "Bundle", "type": "searchset",
                       "entry": [{"resource": r} for r in matches]}  # fmt: skip
    return filled


class FhirServerDouble:
    """A FHIR server answering the prefetch queries from one patient's resources."""

    def __init__(self) -> None:
        self.resources: list[dict[str, Any]] = []
        self.requests: list[httpx.Request] = []
        self.fail_with: int | None = None
        self.jwks: dict[str, Any] = {"keys": []}
        # Whole answers by absolute URL (next pages of a search, for instance).
        self.pages: dict[str, dict[str, Any]] = {}

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if str(request.url) == JKU_URL:
            return httpx.Response(200, json=self.jwks)
        if str(request.url) in self.pages:
            return httpx.Response(200, json=self.pages[str(request.url)])
        if self.fail_with is not None:
            return httpx.Response(self.fail_with, json={"resourceType": "OperationOutcome"})
        path = request.url.path.removeprefix("/r4/")
        query = request.url.query.decode()
        template = f"{path}?{query}" if query else path
        patient = (
            dict(p.split("=", 1) for p in query.split("&")).get("patient", "") if query else ""
        )
        found = fill_prefetch({"x": template}, patient, self.resources)["x"]
        return httpx.Response(200 if found else 404, json=found or {})


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def keys(clock: FrozenClock) -> Keys:
    return Keys(clock)


@pytest.fixture
def fhir_server(keys: Keys) -> FhirServerDouble:
    server = FhirServerDouble()
    server.jwks = {"keys": [jwk(keys.other, "other-1")]}
    return server


@pytest.fixture
def make_client(
    database_url: str, clock: FrozenClock, keys: Keys, fhir_server: FhirServerDouble
) -> Iterator[Callable[..., TestClient]]:
    """Builds a client of the service with the CDS settings given (trusted clients by default)."""
    opened: list[tuple[TestClient, Services]] = []

    def make(**overrides: Any) -> TestClient:
        settings = records_settings(
            database_url,
            cds_clients={
                ISSUER: {"jwks": {"keys": [jwk(keys.ehr, "ehr-1")]}},
                JKU_ISSUER: {"jku": [JKU_URL]},
            },
            cds_link_base="https://mesoscreen.clinic.example",
            **overrides,
        )
        transport = httpx.MockTransport(fhir_server.handler)
        services = build_services(settings, clock, fhir_transport=transport)
        app = create_app(settings, services=services)
        client = TestClient(app)
        client.__enter__()
        opened.append((client, services))
        return client

    yield make
    for client, services in opened:
        client.__exit__(None, None, None)
        services.close()
