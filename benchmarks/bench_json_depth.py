"""The JSON nesting check before sign-in: CPU time per hostile body shape, 64 KiB to 1 MiB.

Run: .venv/bin/python benchmarks/bench_json_depth.py

Prints, for each shape and size, the CPU time of one check (the best of three, from
``time.process_time``) and the ratio to the size before: about 2 for each doubling when the
work is linear (the regular expression it replaced went to about 4, 47 s at 128 KiB).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from mesoscreen.entrypoints.api.json_depth import json_nesting_exceeds

SHAPES: dict[str, Callable[[int], bytes]] = {
    "unclosed escaped quotes": lambda n: b"[" * 63 + b'"' + b'\\"' * ((n - 64) // 2),
    "empty arrays side by side": lambda n: b"[" * 63 + b"[]" * ((n - 63) // 2),
    "one long string": lambda n: b'{"username": "' + b"a" * (n - 16) + b'"}',
    "brackets inside a string": lambda n: b'["' + b"[{" * ((n - 4) // 2) + b'"]',
}
SIZES = [64 * 1024 * 2**k for k in range(5)]


def cpu_seconds(body: bytes) -> float:
    """The best of three CPU times of one check of ``body``."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        json_nesting_exceeds(body)
        best = min(best, time.process_time() - started)
    return best


def main() -> None:
    """Print the table."""
    print(f"{'shape':28} {'bytes':>9} {'CPU ms':>8} {'x prev':>7}")
    for name, make in SHAPES.items():
        previous = None
        for size in SIZES:
            seconds = cpu_seconds(make(size))
            ratio = f"{seconds / previous:7.2f}" if previous else " " * 7
            print(f"{name:28} {size:9d} {seconds * 1000:8.2f} {ratio}")
            previous = seconds


if __name__ == "__main__":
    main()
