"""What turning a record into its API output costs: microseconds per record, by kind.

Run: .venv/bin/python -m benchmarks.bench_record_outputs [--records 20000]

Builds a screening, a treatment session, an account and an audit entry as the services return
them and times ``Out.of(record, ...)`` as the routes call it (the outputs are derived from the
record declarations, ``entrypoints/api/record_schemas.py``), and, for scale, pydantic
validating the same output from a ready dict. Prints the CPU time per record
(``time.process_time``: the machine is shared, wall time is noise).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Any

from mesoscreen.domain.access import Role
from mesoscreen.domain.audit import AuditAction, AuditEntry, AuditOutcome
from mesoscreen.domain.records import Screening, TreatmentSession, User
from mesoscreen.entrypoints.api.schemas import (
    AuditEntryOut,
    ScreeningOut,
    TreatmentSessionOut,
    UserOut,
)

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
POINTS = [{"label": f"vertex-{n}", "volume_ml": 0.1} for n in range(40)]  # as stored: JSON


def _per_record_us(convert: Callable[[], object], records: int) -> float:
    for _ in range(200):
        convert()
    start = time.process_time()
    for _ in range(records):
        convert()
    return (time.process_time() - start) / records * 1e6


def _cases() -> dict[str, tuple[Callable[[], object], Callable[[], object]]]:
    screening = Screening(
        id="s1", clinic_id="c1", patient_id="p1", screening_date=date(2026, 11, 25),
        outcome="eligible", answers={f"q{n}": "no" for n in range(30)},
        decision={"outcome": "eligible", "findings": []}, knowledge_base_version="1",
        knowledge_base_hash="h" * 64, policy={}, replaces_id=None, created_by="u1",
        created_at=NOW,
    )  # fmt: skip
    session = TreatmentSession(
        id="t1", clinic_id="c1", patient_id="p1", plan_id="pl1", performed_at=NOW,
        operator_id="u1", points=POINTS, products=({"name": "Dutasteride"},), depth_mm=1.5,
        total_volume_ml=4.0, notes=None, status="draft", replaces_id=None, created_by="u1",
        created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    user = User("u1", "lan", Role.NURSE, frozenset({"c2", "c1"}), "$argon2id$", False, NOW)
    entry = AuditEntry("patient.read", AuditAction.READ, AuditOutcome.SUCCESS, NOW, "u1",
                       "nurse", "c1", "p1", "patient", "p1", "127.0.0.1",
                       MappingProxyType({"view": "summary"}))  # fmt: skip
    audited = AuditEntryOut.of(entry, seq=1, hash="h", **entry.plain_fields())
    ready: dict[str, dict[str, Any]] = {
        "screening": ScreeningOut.of(screening).model_dump(),
        "session": TreatmentSessionOut.of(session).model_dump(),
        "user": UserOut.of(user).model_dump(),
        "audit entry": audited.model_dump(),
    }
    return {
        "screening": (lambda: ScreeningOut.of(screening, replaced=False),
                      lambda: ScreeningOut.model_validate(ready["screening"])),
        "session": (lambda: TreatmentSessionOut.of(session, replaced=False),
                    lambda: TreatmentSessionOut.model_validate(ready["session"])),
        "user": (lambda: UserOut.of(user, in_other_clinics=False),
                 lambda: UserOut.model_validate(ready["user"])),
        "audit entry": (lambda: AuditEntryOut.of(entry, seq=1, hash="h", **entry.plain_fields()),
                        lambda: AuditEntryOut.model_validate(ready["audit entry"])),
    }  # fmt: skip


def main() -> None:
    """Print the cost of one output per record kind, beside validating a ready dict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20000)
    records = parser.parse_args().records
    for kind, (of, validate) in _cases().items():
        made = _per_record_us(of, records)
        plain = _per_record_us(validate, records)
        print(f"{kind}: of() {made:.2f} us per record (validating a ready dict: {plain:.2f} us)")


if __name__ == "__main__":
    main()
