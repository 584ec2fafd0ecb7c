"""The service under load: the CDS Hooks call, the screening API and the screening page,
each against a bare endpoint of the same stack, in one run.

Run: .venv/bin/python -m benchmarks.bench_load [--seconds 10] [--connections 16] [--workers 2]
     [--only health,cds,api,page] [--alg ES384|RS384]

Starts `mesoscreen serve --workers N` on loopback with production settings (signed CDS client
tokens, Argon2 defaults, PostgreSQL when MESOSCREEN_BENCH_POSTGRES_URL or the local test server
answers, else SQLite), drives it with wrk (Debian's package) from a second process for a
bounded time, and prints requests/s and p50/p99 latency of each, with the ratio to /health.
Every CDS request carries a fresh signed token (unique jti), pre-signed before the run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import psycopg
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from tests.factories import principal_for
from tests.intakes import intake
from tests.integration.cds_hooks.conftest import ISSUER, MESOTHERAPY, fill_prefetch

from mesoscreen.bootstrap import build_services
from mesoscreen.config import Settings
from mesoscreen.domain.access import Role
from mesoscreen.services.cds_definitions import PREFETCH

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PASSWORD = "load test password 2026"  # noqa: S105 (a throwaway bench account)
RECORD = [
    {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1980-04-02"},
    {
        "resourceType": "Condition",
        "id": "c1",
        "subject": {"reference": "Patient/p1"},
        "clinicalStatus": {"coding": [{"code": "remission"}]},
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C50.911"}]},
    },
]


def order_sign_request() -> dict[str, object]:
    """An order-sign call drafting scalp mesotherapy for ``RECORD``'s patient, its record in
    prefetch (the request bench_cds.py measures too)."""
    order = {"resourceType": "ServiceRequest", "id": "o1", "status": "draft",
             "intent": "order", "code": {"coding": [MESOTHERAPY]}}  # fmt: skip
    return {
        "hookInstance": str(uuid.uuid4()),
        "hook": "order-sign",
        "context": {
            "userId": "Practitioner/1",
            "patientId": "p1",
            "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": order}]},
        },
        "prefetch": fill_prefetch(PREFETCH, "p1", RECORD),
    }


_LUA_TOKENS = """
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
tokens = {}
index = 0
function init(args)
  for line in io.lines(args[1]) do tokens[#tokens + 1] = line end
  index = math.floor(#tokens / 2) * id
end
function request()
  index = index + 1
  wrk.headers["Authorization"] = "Bearer " .. tokens[index]
  return wrk.format("POST", nil, nil, wrk.body)
end
"""


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_ms: float = float("nan")  # server CPU (all its processes) per request


def _server_cpu_seconds(root: int) -> float:
    """CPU seconds used so far by the server process ``root`` and its children (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # the process ended meanwhile
        fields = text[text.rindex(")") + 2 :].split()
        pid, parent = int(stat.parent.name), int(fields[1])
        if root in (pid, parent):
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _database() -> tuple[str, str | None]:
    """A database URL for the run and the PostgreSQL schema to drop afterwards."""
    url = os.environ.get("MESOSCREEN_BENCH_POSTGRES_URL", PG_DEFAULT)
    try:
        plain = url.replace("postgresql+psycopg://", "postgresql://")
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(plain, connect_timeout=3, autocommit=True) as connection:
            connection.execute(f"CREATE SCHEMA {schema}")
        return f"{url}?options=-csearch_path%3D{schema}", schema
    except psycopg.Error:
        folder = Path(tempfile.mkdtemp(prefix="mesoscreen-load-"))
        return f"sqlite:///{folder / 'bench.sqlite3'}", None


def _wrk(name: str, url: str, seconds: int, connections: int, server: int, *extra: str) -> Result:
    """One wrk run; requests/s, p50, p99, non-2xx responses and the server's CPU per request."""
    cut = extra.index("--") if "--" in extra else len(extra)
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", *extra[:cut], url]
    command += list(extra[cut:])
    cpu_before = _server_cpu_seconds(server)
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603
    cpu_used = _server_cpu_seconds(server) - cpu_before

    def latency(label: str) -> float:
        found = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        if found is None:
            return float("nan")
        value, unit = float(found.group(1)), found.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: .*", out)
    failed = int(errors.group(1)) if errors else 0
    if socket_errors:
        failed += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(0)))
    return Result(
        name, rps, latency("50"), latency("99"), failed, 1000 * cpu_used / max(requests, 1)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--only", default="health,cds,api,page", help="endpoints to drive (the bare one always)"
    )
    parser.add_argument(
        "--alg", choices=["ES384", "RS384"], default="ES384", help="the CDS client's signature"
    )
    args = parser.parse_args()
    chosen = set(args.only.split(",")) | {"health"}
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    url, schema = _database()
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    if args.alg == "ES384":
        key = ec.generate_private_key(ec.SECP384R1())
        public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    port = 18000 + os.getpid() % 1000
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "MESOSCREEN_DATABASE_URL": url,
        "MESOSCREEN_CDS_CLIENTS": json.dumps(
            {ISSUER: {"jwks": {"keys": [{**public, "kid": "k1"}]}}}
        ),
        "MESOSCREEN_CDS_LINK_BASE": base,
    }
    settings = Settings(database_url=url, cds_link_base=base)
    server = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "mesoscreen",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
        ],
        env=env,
    )
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        services = build_services(settings)
        clinic = services.accounts.create_clinic_locally(f"Load {uuid.uuid4().hex[:6]}")
        admin = services.accounts.create_admin_locally(
            f"admin-{uuid.uuid4().hex[:6]}", PASSWORD, [clinic.name]
        )
        username = f"doc-{uuid.uuid4().hex[:6]}"
        clinician = services.accounts.create_user(
            principal_for(admin), username, PASSWORD, Role.CLINICIAN, [clinic.id]
        )
        services.close()
        client = httpx.Client(base_url=base, timeout=10)
        credentials = {"username": clinician.username, "password": PASSWORD}
        token = client.post("/api/v1/auth/token", json=credentials).json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        patient = client.post(
            "/api/v1/patients",
            headers=bearer,
            json={"clinic_id": clinic.id, "family_name": "Load", "given_name": "Test"},
        ).json()
        screening = client.post(
            f"/api/v1/patients/{patient['id']}/screenings",
            headers=bearer,
            json={"answers": intake("female")},
        ).json()
        login = client.post("/api/v1/auth/login", json=credentials)
        cookie = "; ".join(f"{k}={v}" for k, v in login.cookies.items())

        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            cds_path = "/cds-services/mesotherapy-order-sign"
            now = datetime.now(UTC)
            tokens = [
                jwt.encode(
                    {
                        "iss": ISSUER,
                        "sub": "bench",
                        "aud": base + cds_path,
                        "iat": int(now.timestamp()),
                        "exp": int((now + timedelta(minutes=4)).timestamp()),
                        "jti": str(uuid.uuid4()),
                    },
                    key,
                    args.alg,
                    headers={"kid": "k1"},
                )
                for _ in range(max(20000, args.seconds * 3000))
            ]
            (folder / "tokens.txt").write_text("\n".join(tokens) + "\n")
            hook = order_sign_request()
            # wrk's two threads each start at their own slice of the token file.
            lua = folder / "cds.lua"
            lua.write_text(
                f"wrk.body = [==[{json.dumps(hook)}]==]\n"
                'wrk.headers["Content-Type"] = "application/json"\n' + _LUA_TOKENS
            )
            token_file = str(folder / "tokens.txt")
            screening_lua = folder / "screen.lua"
            screening_lua.write_text(
                'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                f'wrk.headers["Authorization"] = "Bearer {token}"\n'
                f"wrk.body = [==[{json.dumps({'answers': intake('female')})}]==]\n"
            )
            page_lua = folder / "page.lua"
            page_lua.write_text(f'wrk.headers["Cookie"] = "{cookie}"\n')
            runs = {
                "health": lambda: _wrk(
                    "bare endpoint (GET /health)",
                    f"{base}/health",
                    args.seconds,
                    args.connections,
                    server.pid,
                ),
                "cds": lambda: _wrk(
                    f"CDS Hooks order-sign ({args.alg} JWT, prefetch)",
                    base + cds_path,
                    args.seconds,
                    args.connections,
                    server.pid,
                    "-s",
                    str(lua),
                    "--",
                    token_file,
                ),
                "api": lambda: _wrk(
                    "screening API (POST, DB write + audit)",
                    f"{base}/api/v1/patients/{patient['id']}/screenings",
                    args.seconds,
                    args.connections,
                    server.pid,
                    "-s",
                    str(screening_lua),
                ),
                "page": lambda: _wrk(
                    "screening page (GET, DB read + audit)",
                    f"{base}/screenings/{screening['id']}",
                    args.seconds,
                    args.connections,
                    server.pid,
                    "-s",
                    str(page_lua),
                ),
            }
            results = [run() for name, run in runs.items() if name in chosen]
    finally:
        server.terminate()
        server.wait(20)
        if schema:
            plain = url.split("?")[0].replace("postgresql+psycopg://", "postgresql://")
            with psycopg.connect(plain, autocommit=True) as connection:
                connection.execute(f"DROP SCHEMA {schema} CASCADE")
    bare = results[0]
    database = "PostgreSQL" if schema else "SQLite"
    print(
        f"{args.workers} server workers, {database}, wrk -t2 -c{args.connections} "
        f"-d{args.seconds}s, {os.cpu_count()} cores"
    )
    print(
        f"{'endpoint':48} {'req/s':>9} {'ratio':>6} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
        f"{'CPU ms/req':>10}"
    )
    for r in results:
        print(
            f"{r.name:48} {r.rps:>9,.0f} {r.rps / bare.rps:>6.2f} {r.p50_ms:>8.1f} "
            f"{r.p99_ms:>8.1f} {r.errors:>7} {r.cpu_ms:>10.2f}"
        )
    print("CPU ms/req: the server's processes' CPU time over the run per request served")


if __name__ == "__main__":
    main()
