"""Bulk screening speed: bytes to decision, against the JSON parser and against FHIRPath.

Run: .venv/bin/python -m benchmarks.bench_bulk [--patients 20000] [--fhirpath-patients 400]
     [--export realistic|small|small-days]

On one generated export (Bundle per line, about 4.5 KB a patient; with ``--export
realistic``, transaction Bundles shaped like real exports: encounters, claims, hundreds of
observations, about 200 KB a patient; with ``--export small``, a Patient and one other
resource, about 600 bytes, birth dates on nine days a year; ``small-days`` the same with birth
dates to the day, as real ones are) it prints, per core:
  (a) parse only: orjson.loads of every line, the floor no screener in Python can beat;
  (b) Mesoscreen: bytes to decision line (parse, read facts through the value sets, screen,
      serialise), the work `mesoscreen bulk` does per patient; (b') the same on a copy of the
      export in which no coded concept repeats (each text names its patient), the worst case
      for the reader's memo of concepts;
  (c) the same fact rules written as FHIRPath, evaluated by fhirpathpy on the parsed Bundle,
      then screened by the same engine (on fewer patients: it is slow), and how often its
      facts agree with (b);
then (d) `run_inputs` wall-clock rates with 1 and 2 worker processes and their CPU per
patient (parent and workers apart), (e) the peak memory of
`mesoscreen bulk` on the export and on an export four times larger (flat memory), and (f) its
peak memory on exports of large bundles (1 MB and 10 MB a patient, about 300 MB a file; a few
distinct patients repeated), with 1 and 2 workers, beside the floor measured in the same run:
the same command on a file of one small patient (interpreter, knowledge base, value sets).
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
from fhirpathpy import compile as fhirpath_compile

from benchmarks.realistic_export import RealisticExport, write_realistic_lines
from benchmarks.synthetic_export import write_bundle_lines, write_small_bundle_lines
from mesoscreen.adapters.bulk_export import PatientLines
from mesoscreen.adapters.bulk_output import BulkWriter
from mesoscreen.adapters.bulk_runner import BulkSettings, run_inputs
from mesoscreen.adapters.fhir.record_facts import RecordReader
from mesoscreen.adapters.ndjson import Line
from mesoscreen.bootstrap import record_screener
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.knowledge.valuesets import FactCodes, default_value_sets
from mesoscreen.services.record_identity import bundle_resources
from mesoscreen.services.screening import ScreeningService

ON = date(2026, 11, 25)


def _split_cpu(work: Callable[[], None], repeats: int = 2) -> tuple[float, float]:
    """CPU seconds of this process and of its joined children in the run of ``work`` with
    the least CPU in all, of ``repeats`` runs."""
    best = (float("inf"), 0.0)
    for _ in range(repeats):
        before = os.times()
        work()
        after = os.times()
        parent = after.user - before.user + after.system - before.system
        children = (after.children_user - before.children_user
                    + after.children_system - before.children_system)  # fmt: skip
        if parent + children < sum(best):
            best = (parent, children)
    return best


def _best_rate(
    count: int,
    work: Callable[[], None],
    repeats: int = 3,
    clock: Callable[[], float] = time.process_time,
) -> float:
    """Items per second of the fastest of ``repeats`` runs of ``work`` over ``count`` items,
    by default per second of this process's CPU time (the machine is shared: wall-clock
    rates of one process swing with the load from elsewhere, its CPU time much less)."""
    best = float("inf")
    for _ in range(repeats):
        start = clock()
        work()
        best = min(best, clock() - start)
    return count / best


#: The code lists the FHIRPath rules name as %variables (thousands of codes written into an
#: expression are too deep for the FHIRPath parser).
CODE_LISTS: dict[str, list[str]] = {}


def _code_test(fact: FactCodes, element: str) -> str:
    """A FHIRPath test that a CodeableConcept ``element`` holds one of the fact's codes."""
    by_system: dict[str, list[str]] = {}
    for system, code in fact.codes:
        by_system.setdefault(system, []).append(code)
    tests = []
    for system, codes in by_system.items():
        name = f"codes{len(CODE_LISTS)}"
        CODE_LISTS[name] = sorted(codes)
        tests.append(f"(system = '{system}' and code in %{name})")
    for system, prefixes in fact.prefixes:
        starts = " or ".join(f"code.replace('.', '').startsWith('{p}')" for p in prefixes)
        tests.append(f"(system = '{system}' and ({starts}))")
    test = f"{element}.coding.where({' or '.join(tests)}).exists()" if tests else "false"
    if fact.names:
        names = " or ".join(f"$this.lower().contains('{n}')" for n in fact.names)
        test += f" or ({element}.text | {element}.coding.display).where({names}).exists()"
    return f"({test})"


def fhirpath_rules(on: date) -> dict[str, str]:
    """The record-fact rules of the shipped value sets as FHIRPath over a Bundle."""
    not_refuted = (
        "verificationStatus.coding.where(code = 'entered-in-error' or code = 'refuted')"
        ".exists().not()"
    )
    current = (
        "(clinicalStatus.exists().not() or clinicalStatus.coding.where(code = 'active' or "
        "code = 'recurrence' or code = 'relapse').exists())"
    )
    rules: dict[str, list[str]] = {}
    for fact in default_value_sets().facts:
        since = (
            f"@{(on - timedelta(days=fact.within_days)).isoformat()}" if fact.within_days else ""
        )
        parts = rules.setdefault(fact.question, [])
        if "Condition" in fact.resources:
            status = "" if fact.history else f" and {current}"
            recent = (
                f" and (onsetDateTime.exists().not() or onsetDateTime.toString().substring(0, 10)"
                f" >= '{since[1:]}')"
                if since and not fact.history
                else ""
            )
            parts.append(
                f"Bundle.entry.resource.ofType(Condition).where({not_refuted}{status}{recent} "
                f"and {_code_test(fact, 'code')}).exists()"
            )
        for kind in ("MedicationStatement", "MedicationRequest"):
            if kind in fact.resources:
                allowed = "'active' | 'intended' | 'on-hold' | 'unknown'"
                parts.append(
                    f"Bundle.entry.resource.ofType({kind}).where((status.exists().not() or "
                    f"status in ({allowed})) and "
                    f"{_code_test(fact, 'medicationCodeableConcept')}).exists()"
                )
        if "Observation" in fact.resources:
            observed = " or ".join(f"code = '{c}'" for _, c in fact.observation_codes)
            values = " or ".join(f"code = '{c}'" for _, c in fact.value_codes)
            boolean = " or valueBoolean = true" if fact.value_boolean else ""
            parts.append(
                "Bundle.entry.resource.ofType(Observation).where(status != 'entered-in-error' "
                f"and code.coding.where({observed}).exists() and "
                f"(valueCodeableConcept.coding.where({values}).exists(){boolean})).exists()"
            )
    expressions = {q: " or ".join(f"({p})" for p in parts) for q, parts in rules.items()}
    expressions["allergy_history"] = (
        f"Bundle.entry.resource.ofType(AllergyIntolerance).where({not_refuted}).exists()"
    )
    return expressions


def fhirpath_answers(
    compiled: dict[str, Callable[[Any, dict[str, Any]], list[Any]]], bundle: dict[str, Any]
) -> dict[str, object]:
    """The facts the FHIRPath rules find in ``bundle``."""
    answers: dict[str, object] = {}
    for question, evaluate in compiled.items():
        if evaluate(bundle, CODE_LISTS) == [True]:
            answers[question] = "yes"
    return answers


_MEASURE = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
    "capture_output=True); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def _peak_rss_mb(args: list[str]) -> float:
    """Peak resident memory of one run of ``args``, in MB (measured by a fresh parent)."""
    done = subprocess.run(  # noqa: S603 (our own CLI)
        [sys.executable, "-c", _MEASURE, *args], check=True, capture_output=True, text=True
    )
    return int(done.stdout.strip()) / 1024


def _write_large_bundles(path: Path, bundle_mb: float, file_mb: float) -> int:
    """An export of bundles of about ``bundle_mb`` MB, about ``file_mb`` MB in all: eight
    distinct patients, repeated. Returns the number of lines."""
    export = RealisticExport(seed=22)
    distinct = [export.grown_line(i, int(bundle_mb * 1e6)) for i in range(8)]
    count = max(len(distinct), round(file_mb / bundle_mb))
    with path.open("wb") as handle:
        for i in range(count):
            handle.write(distinct[i % len(distinct)] + b"\n")
    return count


def measure_large_bundles(tmp: Path, sizes_mb: list[float], file_mb: float) -> None:
    """(f) Peak memory of `mesoscreen bulk` on large bundles, with the floor of the same run."""
    cli = [sys.executable, "-m", "mesoscreen", "bulk", "--on", ON.isoformat()]
    tiny = tmp / "one.ndjson"
    write_bundle_lines(tiny, 1)
    floor = _peak_rss_mb([*cli, str(tiny), "--out", str(tmp / "floor")])
    print(f"(f) peak memory of `mesoscreen bulk` on large bundles; floor (one small patient): "
          f"{floor:.0f} MB")  # fmt: skip
    for size in sizes_mb:
        export = tmp / f"large-{size:g}.ndjson"
        count = _write_large_bundles(export, size, file_mb)
        total = export.stat().st_size / 1e6
        packed = tmp / f"large-{size:g}.ndjson.gz"
        with export.open("rb") as source, gzip.open(packed, "wb", compresslevel=1) as target:
            shutil.copyfileobj(source, target)
        for form, path in (("plain", export), ("gzip", packed)):
            for workers in (1, 2):
                rss = _peak_rss_mb(
                    [*cli, str(path), "--workers", str(workers), "--out", str(tmp / "large.out")]
                )
                over = rss - floor
                shown = f"{total / count:5.1f} MB bundles x {count} ({total:.0f} MB, {form})"
                print(f"    {shown}, {workers} worker(s): {rss:5.0f} MB peak, "
                      f"{over:5.0f} MB over the floor")  # fmt: skip
        export.unlink()
        packed.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=20000)
    parser.add_argument("--fhirpath-patients", type=int, default=400)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument(
        "--export",
        choices=["synthetic", "realistic", "small", "small-days"],
        default="synthetic",
    )
    parser.add_argument(
        "--large-bundle-mb", type=float, nargs="*", default=[1.0, 10.0], help="(f); none skips"
    )
    parser.add_argument("--large-file-mb", type=float, default=300.0)
    parser.add_argument("--only-large", action="store_true", help="run (f) alone")
    args = parser.parse_args()
    if args.only_large:
        with tempfile.TemporaryDirectory(prefix="mesoscreen-bench-") as tmp:
            measure_large_bundles(Path(tmp), args.large_bundle_mb, args.large_file_mb)
        return
    with tempfile.TemporaryDirectory(prefix="mesoscreen-bench-") as tmp:
        export = Path(tmp) / "bundles.ndjson"
        if args.export == "realistic":
            write_realistic_lines(export, args.patients)
            size = export.stat().st_size
        elif args.export in ("small", "small-days"):
            size = write_small_bundle_lines(export, args.patients,
                                            birth_days=args.export == "small-days")  # fmt: skip
        else:
            size = write_bundle_lines(export, args.patients)
        lines = [ln for ln in export.read_bytes().splitlines() if ln]
        records = [
            PatientLines("", (Line(str(export), i + 1, ln),), is_bundle=True)
            for i, ln in enumerate(lines)
        ]
        count = len(lines)
        print(f"export: {count} patients, {size / count / 1024:.1f} KB a patient, "
              f"{size / 1e6:.1f} MB, {os.cpu_count()} cores")  # fmt: skip

        def parse_only() -> None:
            for line in lines:  # each document dropped at once, as a screener drops it
                orjson.loads(line)

        def screen_all() -> None:
            for record in records:
                screener.screen(record)

        screener = record_screener(ON)
        # The two rates are compared, so they are taken in turns: a burst of load from
        # elsewhere on the machine then slows both rather than one.
        parse, ours = 0.0, 0.0
        for _ in range(5):
            parse = max(parse, _best_rate(count, parse_only, repeats=1))
            ours = max(ours, _best_rate(count, screen_all, repeats=1))
        print(f"(a) parse only (orjson.loads)            {parse:>10,.0f} patients/s/core")
        print(f"(b) mesoscreen, bytes to decision line   {ours:>10,.0f} patients/s/core"
              f"   {ours / parse:.2f} x the parse-only rate")  # fmt: skip

        # The reader parses each distinct CodeableConcept once; here no coded concept repeats
        # (each text carries its patient's number), the worst case for that memo.
        unique = [
            PatientLines("", (Line(str(export), i + 1, ln.replace(b'"text":"', b'"text":"%d ' % i)),
                              ), is_bundle=True)
            for i, ln in enumerate(lines)
        ]  # fmt: skip

        def screen_unique() -> None:
            for record in unique:
                cold.screen(record)

        cold = record_screener(ON)
        worst = _best_rate(count, screen_unique)
        print(f"(b') the same, no concept seen twice     {worst:>10,.0f} patients/s/core"
              f"   {worst / parse:.2f} x the parse-only rate")  # fmt: skip

        if args.fhirpath_patients > 0:  # (c); none skips it
            compiled = {q: fhirpath_compile(e) for q, e in fhirpath_rules(ON).items()}
            service = ScreeningService(default_knowledge_base())
            sample = lines[: args.fhirpath_patients]
            parsed = [orjson.loads(ln) for ln in sample]

            def fhirpath_run() -> None:
                for bundle in [orjson.loads(ln) for ln in sample]:
                    service.screen(fhirpath_answers(compiled, bundle), ON)

            slow = _best_rate(len(sample), fhirpath_run, repeats=1)
            reader = RecordReader.default()
            risk_keys = set(compiled)
            agree = sum(
                {k for k, v in reader.read(bundle_resources(b), ON).answers.items() if v == "yes"}
                & risk_keys
                == set(fhirpath_answers(compiled, b))
                for b in parsed
            )
            print(f"(c) FHIRPath rules (fhirpathpy)          {slow:>10,.0f} patients/s/core"
                  f"   mesoscreen is {ours / slow:.0f}x faster; facts agree on "
                  f"{agree}/{len(parsed)} patients")  # fmt: skip

        settings = BulkSettings(on=ON, screener=record_screener)
        per_patient: dict[int, float] = {}
        for workers in (1, 2):

            def local_run(n: int = workers) -> None:
                # A real file, as `mesoscreen bulk` writes: the workers' lines are copied
                # into it in the kernel (a BytesIO would take them through Python).
                with (Path(tmp) / "d.ndjson").open("wb") as out:
                    run_inputs([export], settings, BulkWriter(out, io.BytesIO()), workers=n)

            rate = _best_rate(count, local_run, repeats=2, clock=time.perf_counter)
            # CPU of this process and of its (joined) workers: on a busy machine the wall
            # clock shows the load; equal CPU per patient for 1 and 2 workers means that
            # two free cores would give twice the rate. The parent's share (cutting the file,
            # taking the results) runs beside the workers on the same cores.
            parent, children = _split_cpu(local_run)
            per_patient[workers] = (parent + children) / count
            print(f"(d) end to end from the file, {workers} worker(s) {rate:>10,.0f} patients/s"
                  f" (wall clock; load average {os.getloadavg()[0]:.1f}); "
                  f"{1e6 * per_patient[workers]:.1f} us of CPU a patient, all processes "
                  f"(parent {1e6 * parent / count:.1f}, "
                  f"workers {1e6 * children / count:.1f})")  # fmt: skip
        print(f"    two workers' CPU a patient, x one worker's: "
              f"{per_patient[2] / per_patient[1]:.2f}; on two free cores at most "
              f"{2 * per_patient[1] / per_patient[2]:.2f}x one worker's rate")  # fmt: skip

        if not args.skip_memory:
            big = Path(tmp) / "big.ndjson"
            write_bundle_lines(big, args.patients * 4, seed=11)
            cli = [sys.executable, "-m", "mesoscreen", "bulk", "--on", ON.isoformat()]
            small_rss = _peak_rss_mb([*cli, str(export), "--out", str(Path(tmp) / "o1")])
            big_rss = _peak_rss_mb([*cli, str(big), "--out", str(Path(tmp) / "o2")])
            print(f"(e) peak memory of `mesoscreen bulk`: {small_rss:.0f} MB for {count} "
                  f"patients, {big_rss:.0f} MB for {count * 4}")  # fmt: skip
            if args.large_bundle_mb:
                measure_large_bundles(Path(tmp), args.large_bundle_mb, args.large_file_mb)


if __name__ == "__main__":
    main()
