"""Photo uploads of many pixels against ``/health``: how long the event loop is ever held.

Run: .venv/bin/python -m benchmarks.bench_heavy_work [--uploads 6] [--side 6320] [--threads 1 2 4]

Six PNGs of 6320 x 6320 pixels (a solid picture: about 100 KiB of file, 40 million pixels to
decode and re-encode, the shape an outside probe sent) are uploaded at once through the API on
a temporary SQLite database, for each bound on heavy work (``heavy_work_threads``), while
``/health`` is asked every 10 ms. Prints the time until every upload is stored and the
``/health`` waits (median, 99th percentile, longest, how many past 100 ms): when decoding held
the event loop, ``/health`` waited for whole decodes (2.2 s in the probe); ``stored`` counts
the uploads answered 201 (on SQLite a decode inside the write transaction made others 503).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import tempfile
import time
from pathlib import Path

import httpx
from PIL import Image
from tests.conftest import migrated_database
from tests.factories import PASSWORD, records_settings, seed_clinic

from mesoscreen.bootstrap import build_services
from mesoscreen.domain.access import Role
from mesoscreen.entrypoints.api import create_app
from mesoscreen.services.patients import PatientDetails


def large_png(side: int) -> bytes:
    """A solid PNG of ``side`` x ``side`` pixels (few bytes, many pixels)."""
    out = io.BytesIO()
    Image.new("RGB", (side, side), (180, 120, 90)).save(out, "PNG")
    return out.getvalue()


async def upload_while_asking_health(
    app: object, token: str, patient: str, photo: bytes, uploads: int
) -> tuple[float, list[float], list[int]]:
    """(seconds until every upload answered, each /health wait, the uploads' statuses)."""
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="https://bench") as http:
        headers = {"Authorization": f"Bearer {token}"}
        form = {"view": "vertex", "taken_on": "2026-11-20"}
        files = {"photo": ("scalp.png", photo, "image/png")}
        started = time.perf_counter()
        sent = [
            asyncio.ensure_future(
                http.post(
                    f"/api/v1/patients/{patient}/photos", data=form, files=files, headers=headers
                )
            )
            for _ in range(uploads)
        ]
        waits = []
        while not all(task.done() for task in sent):
            asked = time.perf_counter()
            assert (await http.get("/health")).status_code == 200  # noqa: S101
            waits.append(time.perf_counter() - asked)
            await asyncio.sleep(0.01)
        statuses = [response.status_code for response in await asyncio.gather(*sent)]
        return time.perf_counter() - started, waits, statuses


def main() -> None:
    """Print one line per bound."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=6)
    parser.add_argument("--side", type=int, default=6320)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    photo = large_png(args.side)
    print(f"{args.uploads} uploads of {args.side}x{args.side} px ({len(photo) // 1024} KiB each)")
    print(f"{'threads':>7} {'all stored s':>12} {'/health ms: median':>19} {'p99':>7} "
          f"{'longest':>8} {'answers':>8} {'over 100 ms':>11} {'stored':>6}")  # fmt: skip
    for threads in args.threads:
        with (
            tempfile.TemporaryDirectory() as folder,
            migrated_database("sqlite", Path(folder)) as url,
        ):
            services = build_services(records_settings(url, heavy_work_threads=threads))
            staff = seed_clinic(services.accounts)
            nurse = staff.principal(Role.NURSE)
            patient = services.patients.register(
                nurse, staff.clinic.id, PatientDetails("Tran", "Lan")
            ).id
            token = services.authentication.login(
                staff.users[Role.NURSE].username, PASSWORD, "bearer", None
            ).token
            app = create_app(services.settings, services=services)
            seconds, waits, statuses = asyncio.run(
                upload_while_asking_health(app, token, patient, photo, args.uploads)
            )
            services.close()
        waits.sort()
        median, p99 = waits[len(waits) // 2], waits[int(len(waits) * 0.99)]
        slow, stored = sum(wait > 0.1 for wait in waits), statuses.count(201)
        print(f"{threads:7d} {seconds:12.2f} {median * 1000:19.1f} {p99 * 1000:7.1f} "
              f"{waits[-1] * 1000:8.1f} {len(waits):8d} {slow:11d} {stored:6d}")  # fmt: skip


if __name__ == "__main__":
    main()
