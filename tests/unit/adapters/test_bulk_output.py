"""A chunk's tally: its decision lines in order, and the counts a patient-by-patient tally
would give."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mesoscreen.adapters.bulk_export import BadLine
from mesoscreen.adapters.bulk_output import ChunkTally
from mesoscreen.adapters.bulk_records import RecordResult
from mesoscreen.services.bulk_screening import BulkSummary

_CATEGORIES = ("pregnancy", "cancer", "allergy", "scalp")
_bad_lines = st.builds(BadLine, st.just("in.ndjson"), st.integers(1, 9), st.just("bad"))
_results = st.one_of(
    st.builds(
        RecordResult,
        output=st.binary(min_size=1, max_size=8).map(lambda b: b + b"\n"),
        outcome=st.sampled_from(("eligible", "deferred", "contraindicated", "incomplete")),
        categories=st.lists(st.sampled_from(_CATEGORIES), max_size=3).map(tuple),
        bad=st.lists(_bad_lines, max_size=2).map(tuple),
    ),
    st.builds(
        RecordResult,
        output=st.just(b'{"deceased"}\n'),
        not_screened=st.just("deceased"),
        bad=st.lists(_bad_lines, max_size=1).map(tuple),
    ),
    st.builds(RecordResult, bad=st.just((BadLine("in.ndjson", 3, "not JSON"),))),
)


@given(st.lists(_results, max_size=40))
def test_a_tally_holds_every_line_in_order_and_counts_as_each_patient_would(
    results: list[RecordResult],
) -> None:
    """Counting by (outcome, categories) gives what adding each patient in turn gives."""
    tally = ChunkTally()
    expected = BulkSummary()
    for result in results:
        tally.take(result)
        if result.output and result.not_screened:
            expected.add_not_screened(result.not_screened)
        elif result.output:
            expected.add(result.outcome, result.categories)
    taken = tally.result(len(results))
    assert taken.out == b"".join(result.output for result in results)
    assert taken.bad == tuple(line for result in results for line in result.bad)
    assert taken.lines == len(results)
    assert taken.summary == expected
    assert tally.result(len(results)).summary == expected  # asked again, counted once


def test_patients_alike_are_counted_together_each_category_once() -> None:
    """A count of patients adds to the outcome and once to each of their categories."""
    summary = BulkSummary()
    summary.add("deferred", ("pregnancy", "pregnancy", "allergy"), 3)
    summary.add("deferred", ("allergy",))
    assert summary.patients == 4
    assert summary.by_outcome == {"deferred": 4}
    assert summary.by_category == {"pregnancy": 3, "allergy": 4}
