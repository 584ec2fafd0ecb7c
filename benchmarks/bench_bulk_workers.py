"""Bulk with 1 and 2 workers: CPU a patient of every process, start-up excluded, and the floor.

Run: .venv/bin/python -m benchmarks.bench_bulk_workers [--patients 80000] [--rounds 2]
     [--export small|small-days|synthetic] [--gzip] [--src OTHER/src]

Each measurement is a fresh interpreter that runs ``run_inputs`` (what ``mesoscreen bulk``
runs) on a plain Bundle-per-line file into a real output file, and reports the CPU of its own
process and of its joined workers (``getrusage``, RUSAGE_SELF and RUSAGE_CHILDREN); the same
on a file of the first 5 patients is taken away, so building the screener and starting the
pool are not counted in the rates (that run's own cost is printed at the end: what a run pays
before its first patient). The machine is shared: CPU, not the wall clock, says what two free
cores would give (two workers at the same total CPU a patient as one run at twice its rate),
and each line shows the load average beside it. 1 and 2 workers are measured in turns,
``--rounds`` times. The outputs of 1 and 2 workers are checked byte for byte equal.

What a run costs once (start-up, each worker's first chunk, where it makes the shared lines
and memos that later patients reuse) weighs on a short run and not on a long one, so each
mode also screens a file twice as long whose first half is the same patients: the difference
between the two is the rate on the next patients, once every process is warm. The floor is
two independent one-worker runs started at once on the first file: how many times one
process's rate the two cores give to two processes that share nothing but the machine.
``--gzip`` compresses the file first (the parent then decompresses it and hands the workers
blocks of whole lines instead of byte ranges). ``--src`` runs another checkout's ``src``
(e.g. a copy of main's) for a before/after.
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
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


def _run(source: Path, out: Path, workers: int, src: str | None) -> subprocess.Popen[str]:
    """Start one run: a fresh interpreter screening ``source`` into ``out``."""
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src
    return subprocess.Popen(  # noqa: S603 - this interpreter, our own script
        [sys.executable, "-c", _CHILD, str(source), str(out), str(workers)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def _ran(run: subprocess.Popen[str], src: str | None) -> Run:
    """What the run ``run`` printed, once it has ended."""
    stdout, _ = run.communicate()
    if run.returncode != 0:
        raise SystemExit(f"a run failed with exit code {run.returncode}")
    parent, children, wall, _patients, module = stdout.split()
    if src and not module.startswith(str(Path(src).resolve())):
        raise SystemExit(f"--src not used: mesoscreen came from {module}")
    return Run(float(parent), float(children), float(wall))


@dataclass(frozen=True)
class Run:
    """CPU of the parent and of its workers, and the wall clock of one run, in seconds."""

    parent: float
    workers: float
    wall: float

    def __sub__(self, other: Run) -> Run:
        return Run(self.parent - other.parent, self.workers - other.workers,
                   self.wall - other.wall)  # fmt: skip

    @property
    def cpu(self) -> float:
        return self.parent + self.workers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=80000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--export", choices=["small", "small-days", "synthetic"], default="small")
    parser.add_argument("--gzip", action="store_true", help="compress the files first")
    parser.add_argument("--src", help="another checkout's src folder to run instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mesoscreen-bench-") as tmp:
        double, export, head = (Path(tmp) / f"{name}.ndjson" for name in ("double", "bundles",
                                                                            "head"))  # fmt: skip
        # Twice as many patients: its first half is the same patients.
        if args.export == "synthetic":
            size = write_bundle_lines(double, 2 * args.patients)
        else:
            size = write_small_bundle_lines(double, 2 * args.patients,
                                            birth_days=args.export == "small-days")  # fmt: skip
        with double.open("rb") as lines:
            head.write_bytes(b"".join(next(lines) for _ in range(5)))
        with double.open("rb") as lines, export.open("wb") as first:
            first.writelines(next(lines) for _ in range(args.patients))
        if args.gzip:
            for path in (double, export, head):
                path.write_bytes(gzip.compress(path.read_bytes(), compresslevel=1))
        count = args.patients - 5
        print(f"export: {args.patients} and {2 * args.patients} patients, "
              f"{size / (2 * args.patients):.0f} bytes a patient; "
              f"{'gzip, ' if args.gzip else ''}code: {args.src or 'this checkout'}")  # fmt: skip
        outputs: dict[int, bytes] = {}
        starts: dict[int, list[Run]] = {}  # the runs on 5 patients: what a run pays once
        ratios: dict[str, list[float]] = {}
        for round_ in range(args.rounds):
            totals: dict[int, float] = {}
            walls: dict[int, float] = {}
            seconds: dict[int, float] = {}
            for workers in (1, 2):
                out = Path(tmp) / f"out{workers}.ndjson"
                load = os.getloadavg()[0]
                base = _ran(_run(head, out, workers, args.src), args.src)
                full = _ran(_run(export, out, workers, args.src), args.src)
                outputs[workers] = out.read_bytes()
                twice = _ran(_run(double, out, workers, args.src), args.src)
                net, more = full - base, twice - full
                totals[workers], walls[workers] = net.cpu / count, more.wall
                seconds[workers] = full.wall
                starts.setdefault(workers, []).append(base)
                print(f"round {round_ + 1}, {workers} worker(s): "
                      f"{1e6 * totals[workers]:.1f} us of CPU a patient "
                      f"(parent {1e6 * net.parent / count:.1f}, "
                      f"workers {1e6 * net.workers / count:.1f}); "
                      f"wall clock {count / (full.wall - base.wall):,.0f} patients/s; "
                      f"the next {args.patients:,}: {args.patients / more.wall:,.0f} patients/s, "
                      f"{1e6 * more.cpu / args.patients:.1f} us of CPU a patient; "
                      f"load average {load:.1f}-{os.getloadavg()[0]:.1f}")  # fmt: skip
            # The floor: two independent one-worker runs at once, what the two cores give two
            # processes that share nothing but the machine.
            pair = [_run(export, Path(tmp) / f"twin{i}.ndjson", 1, args.src) for i in (1, 2)]
            twins = [_ran(run, args.src) for run in pair]
            floor = 2 * seconds[1] / max(twin.wall for twin in twins)
            print(f"round {round_ + 1}: two workers' CPU a patient {totals[2] / totals[1]:.3f}x "
                  f"one worker's, at most {2 * totals[1] / totals[2]:.2f}x its rate on two "
                  f"free cores; wall clock {seconds[1] / seconds[2]:.2f}x on {args.patients:,} "
                  f"patients, {walls[1] / walls[2]:.2f}x on the next {args.patients:,}; "
                  f"floor: two one-worker runs at once screen {floor:.2f}x as many patients a "
                  f"second as one alone")  # fmt: skip
            for name, value in (
                ("two workers' CPU a patient, x one worker's", totals[2] / totals[1]),
                (f"wall clock on {args.patients:,}, x one worker's", seconds[1] / seconds[2]),
                (f"wall clock on the next {args.patients:,}, x one worker's", walls[1] / walls[2]),
                ("floor: two one-worker runs at once, x one alone", floor),
            ):
                ratios.setdefault(name, []).append(value)
        # One round moves by 10-20% with the machine's load, a difference of two runs more:
        # the medians over the rounds are the figures to compare.
        for name, values in ratios.items():
            print(f"median of {len(values)} rounds: {name}: {statistics.median(values):.2f} "
                  f"({min(values):.2f}-{max(values):.2f})")  # fmt: skip
        for workers, runs in starts.items():
            wall, parent, children = (statistics.median(getattr(run, part) for run in runs)
                                      for part in ("wall", "parent", "workers"))  # fmt: skip
            print(f"median of {len(runs)} rounds: a run on 5 patients, {workers} worker(s) "
                  f"(building the screeners, starting the pool): {wall:.3f} s wall clock, "
                  f"{parent:.3f} s CPU of the parent, {children:.3f} s of its workers")  # fmt: skip
        if outputs[1] != outputs[2]:
            raise SystemExit("the outputs of 1 and 2 workers differ")
        print(f"outputs of 1 and 2 workers: byte for byte equal ({len(outputs[1]):,} bytes)")


if __name__ == "__main__":
    main()
