"""Work for bulk workers in batches bounded in records and in bytes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mesoscreen.adapters.bulk_export import BadLine, PatientLines
from mesoscreen.adapters.bulk_runner import batches, record_bytes
from mesoscreen.adapters.ndjson import Line

MAX_BYTES = 1000
MAX_RECORDS = 5


def _record(number: int, sizes: list[int]) -> PatientLines:
    """A record of lines of the given sizes."""
    lines = tuple(Line("in.ndjson", number, b"x" * size) for size in sizes)
    return PatientLines(f"p{number}", lines)


records_or_bad_lines = st.lists(
    st.one_of(
        st.lists(st.integers(1, 1500), min_size=1, max_size=3),
        st.just(None),  # a bad line from grouping
    ),
    max_size=60,
)


def _inputs(shapes: list[list[int] | None]) -> list[PatientLines | BadLine]:
    return [
        BadLine("in.ndjson", n, "bad") if sizes is None else _record(n, sizes)
        for n, sizes in enumerate(shapes)
    ]


@given(records_or_bad_lines)
def test_a_batch_never_holds_more_bytes_than_the_bound_unless_it_is_one_oversized_record(
    shapes: list[list[int] | None],
) -> None:
    """Every batch is within the byte and record bounds, or is a single record larger than
    the byte bound on its own."""
    found = list(batches(_inputs(shapes), lambda _: None, MAX_RECORDS, MAX_BYTES))
    for batch in found:
        assert 1 <= len(batch) <= MAX_RECORDS
        held = sum(record_bytes(record) for record in batch)
        assert held <= MAX_BYTES or len(batch) == 1


@given(records_or_bad_lines)
def test_batches_keep_every_record_once_in_order_and_pass_bad_lines_on(
    shapes: list[list[int] | None],
) -> None:
    """Flattened, the batches are the records in input order; bad lines go to the callback."""
    inputs = _inputs(shapes)
    bad: list[BadLine] = []
    found = list(batches(inputs, bad.append, MAX_RECORDS, MAX_BYTES))
    assert [r for batch in found for r in batch] == [
        r for r in inputs if isinstance(r, PatientLines)
    ]
    assert bad == [r for r in inputs if isinstance(r, BadLine)]


def test_small_records_fill_a_batch_up_to_the_record_bound() -> None:
    """Records far below the byte bound are batched by count."""
    found = list(batches([_record(n, [10]) for n in range(12)], lambda _: None, 5, MAX_BYTES))
    assert [len(batch) for batch in found] == [5, 5, 2]


def test_a_record_over_the_byte_bound_is_a_batch_of_its_own() -> None:
    """The oversized record neither joins the batch before it nor takes the next one."""
    sizes = [[400], [400], [5000], [400]]
    found = list(batches([_record(n, s) for n, s in enumerate(sizes)], lambda _: None, 5, 1000))
    assert [[r.patient_id for r in batch] for batch in found] == [["p0", "p1"], ["p2"], ["p3"]]
