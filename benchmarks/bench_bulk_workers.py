"""Bulk with 1 and 2 workers: CPU a patient of every process, start-up excluded.

Run: .venv/bin/python -m benchmarks.bench_bulk_workers [--patients 80000] [--rounds 2]
     [--export small|synthetic] [--gzip] [--src OTHER/src]

Each measurement is a fresh interpreter that runs ``run_inputs`` (what ``mesoscreen bulk``
runs) on a plain Bundle-per-line file into a real output file, and reports the CPU of its own
process and of its joined workers (``getrusage``, RUSAGE_SELF and RUSAGE_CHILDREN); the same
on a file of the first 5 patients is taken away, so building the screener and starting the
pool are not counted. The machine is shared: CPU, not the wall clock, says what two free
cores would give (two workers at the same total CPU a patient as one run at twice its rate),
and each line shows the load average beside it. 1 and 2 workers are measured in turns,
``--rounds`` times. The outputs of 1 and 2 workers are checked byte for byte equal.
``--gzip`` compresses the file first (the parent then decompresses it and hands the workers
blocks of whole lines instead of byte ranges). ``--src`` runs another checkout's ``src``
(e.g. a copy of main's) for a before/after.
"""

from __future__ import annotations

import argparse
import gzip
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.synthetic_export import write_bundle_lines, write_small_bundle_lines

_CHILD = """
import resource, sys, time
from datetime import date
from pathlib import Path
import mesoscreen
from mesoscreen.adapters.bulk_output import BulkWriter
from mesoscreen.adapters.bulk_runner import BulkSettings, run_inputs
from mesoscreen.bootstrap import record_screener
source, out, workers = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
settings = BulkSettings(on=date(2026, 11, 25), screener=record_screener)
def cpu(who):
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime
self0, kids0, wall0 = cpu(resource.RUSAGE_SELF), cpu(resource.RUSAGE_CHILDREN), time.time()
with out.open("wb") as o, out.with_suffix(".errors").open("wb") as e:
    summary = run_inputs([source], settings, BulkWriter(o, e), workers=workers)
self1, kids1, wall1 = cpu(resource.RUSAGE_SELF), cpu(resource.RUSAGE_CHILDREN), time.time()
print(self1 - self0, kids1 - kids0, wall1 - wall0, summary.patients, mesoscreen.__file__)
"""


def _run(source: Path, out: Path, workers: int, src: str | None) -> tuple[float, float, float]:
    """CPU of the parent, of the workers, and the wall clock of one run, in seconds."""
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src
    done = subprocess.run(  # noqa: S603 - this interpreter, our own script
        [sys.executable, "-c", _CHILD, str(source), str(out), str(workers)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    parent, children, wall, _patients, module = done.stdout.split()
    if src and not module.startswith(str(Path(src).resolve())):
        raise SystemExit(f"--src not used: mesoscreen came from {module}")
    return float(parent), float(children), float(wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=80000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--export", choices=["small", "synthetic"], default="small")
    parser.add_argument("--gzip", action="store_true", help="compress the file first")
    parser.add_argument("--src", help="another checkout's src folder to run instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mesoscreen-bench-") as tmp:
        export, head = Path(tmp) / "bundles.ndjson", Path(tmp) / "head.ndjson"
        write = write_small_bundle_lines if args.export == "small" else write_bundle_lines
        size = write(export, args.patients)
        with export.open("rb") as lines:
            head.write_bytes(b"".join(next(lines) for _ in range(5)))
        if args.gzip:
            for path in (export, head):
                path.write_bytes(gzip.compress(path.read_bytes(), compresslevel=1))
        count = args.patients - 5
        print(f"export: {args.patients} patients, {size / args.patients:.0f} bytes a patient; "
              f"{'gzip, ' if args.gzip else ''}code: {args.src or 'this checkout'}")  # fmt: skip
        outputs: dict[int, bytes] = {}
        for round_ in range(args.rounds):
            totals: dict[int, float] = {}
            for workers in (1, 2):
                out = Path(tmp) / f"out{workers}.ndjson"
                load = os.getloadavg()[0]
                base = _run(head, out, workers, args.src)
                full = _run(export, out, workers, args.src)
                parent, children = full[0] - base[0], full[1] - base[1]
                totals[workers] = (parent + children) / count
                outputs[workers] = out.read_bytes()
                print(f"round {round_ + 1}, {workers} worker(s): "
                      f"{1e6 * totals[workers]:.1f} us of CPU a patient "
                      f"(parent {1e6 * parent / count:.1f}, workers {1e6 * children / count:.1f}); "
                      f"wall clock {count / (full[2] - base[2]):,.0f} patients/s; "
                      f"load average {load:.1f}-{os.getloadavg()[0]:.1f}")  # fmt: skip
            print(f"round {round_ + 1}: two workers' CPU a patient {totals[2] / totals[1]:.3f}x "
                  f"one worker's, at most {2 * totals[1] / totals[2]:.2f}x its rate on two "
                  f"free cores")  # fmt: skip
        if outputs[1] != outputs[2]:
            raise SystemExit("the outputs of 1 and 2 workers differ")
        print(f"outputs of 1 and 2 workers: byte for byte equal ({len(outputs[1]):,} bytes)")


if __name__ == "__main__":
    main()
