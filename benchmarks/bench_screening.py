"""Screening throughput: decisions per second per core, from raw intake to decision object.

Run: .venv/bin/python benchmarks/bench_screening.py [--intakes 20000] [--workers 2]

Prints decisions per second for (a) validate + evaluate, (b) the same plus the
decision's JSON form (as_dict + orjson), single core; and (c) (a) across worker
processes. Intakes are generated with a fixed seed: a realistic mix of clear,
risky and incomplete answers.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from typing import Any

import orjson

from mesoscreen.domain.conditions import Truth
from mesoscreen.domain.knowledge_base import AnswerType
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.services.screening import ScreeningService

ON = date(2026, 11, 25)


def make_intakes(count: int, seed: int = 7, every_question: bool = False) -> list[dict[str, Any]]:
    """``count`` intakes: mostly 'no', some 'yes', a few 'unknown' or missing.

    A question that does not apply (by the answers drawn before it) is left out, as a form
    does, except in 3% of cases, which exercise the contradictory answers path. Before
    issue 17 every question was answered whatever applied, so almost every intake carried
    contradictory answers (a weaning date with "not recently weaned", allergens with "no
    allergy"); ``--every-question`` keeps that old mix for comparison.
    """
    rng = random.Random(seed)
    kb = default_knowledge_base()
    intakes = []
    for _ in range(count):
        raw: dict[str, Any] = {}
        typed: dict[str, Any] = {}
        not_applicable: set[str] = set()
        for q in kb.questions:
            roll = rng.random()
            if roll < 0.03:
                continue
            if q.applies_when is not None and (
                not not_applicable.isdisjoint(q.applies_when.facts())
                or q.applies_when.evaluate(typed, ON) is Truth.FALSE
            ):
                not_applicable.add(q.id)
                if not every_question and rng.random() >= 0.03:
                    continue
            if q.answer_type is AnswerType.YES_NO_UNKNOWN:
                raw[q.id] = "yes" if roll < 0.1 else ("unknown" if roll < 0.13 else "no")
            elif q.answer_type is AnswerType.CHOICE:
                raw[q.id] = rng.choice(q.choices)
            elif q.answer_type is AnswerType.DATE:
                raw[q.id] = (
                    ON - timedelta(days=rng.randint(1, 20000 if q.id == "birth_date" else 200))
                ).isoformat()
            else:
                raw[q.id] = rng.sample(["lidocaine", "peanuts", "minoxidil", "latex"], k=2)
            value = raw[q.id]
            typed[q.id] = date.fromisoformat(value) if q.answer_type is AnswerType.DATE else value
            if isinstance(value, list):
                typed[q.id] = tuple(value)
        intakes.append(raw)
    return intakes


def _screen_chunk(chunk: list[dict[str, Any]]) -> int:
    """Screen a chunk in a worker process; returns how many were screened."""
    service = ScreeningService(default_knowledge_base())
    for raw in chunk:
        service.screen(raw, ON)
    return len(chunk)


def _rate(count: int, seconds: float) -> str:
    """Decisions per second, formatted."""
    return f"{count / seconds:,.0f}/s"


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--intakes", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--every-question",
        action="store_true",
        help="Answer every question, applicable or not (the mix before issue 17).",
    )
    args = parser.parse_args()
    intakes = make_intakes(args.intakes, every_question=args.every_question)
    service = ScreeningService(default_knowledge_base())
    for raw in intakes[:500]:  # warm up
        service.screen(raw, ON)

    start = time.perf_counter()
    outcomes: dict[str, int] = {}
    for raw in intakes:
        outcome = service.screen(raw, ON).outcome.value
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    evaluate = time.perf_counter() - start

    start = time.perf_counter()
    for raw in intakes:
        orjson.dumps(service.screen(raw, ON).as_dict())
    with_json = time.perf_counter() - start

    chunks = [intakes[i :: args.workers] for i in range(args.workers)]
    with ProcessPoolExecutor(args.workers) as pool:
        list(pool.map(_screen_chunk, [c[:50] for c in chunks]))  # start and warm workers
        start = time.perf_counter()
        screened = sum(pool.map(_screen_chunk, chunks))
        parallel = time.perf_counter() - start

    print(f"intakes: {len(intakes):,}  outcomes: {dict(sorted(outcomes.items()))}")
    print(
        f"validate + evaluate, 1 core:          {_rate(len(intakes), evaluate)}"
        f"  ({evaluate / len(intakes) * 1e6:.1f} us per decision)"
    )
    print(f"validate + evaluate + JSON, 1 core:   {_rate(len(intakes), with_json)}")
    print(
        f"validate + evaluate, {args.workers} workers:       {_rate(screened, parallel)}"
        f"  ({screened / parallel / args.workers:,.0f}/s per core)"
    )


if __name__ == "__main__":
    main()
