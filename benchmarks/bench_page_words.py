"""What reading words through gettext costs a page: microseconds per message a template reads.

Run: .venv/bin/python -m benchmarks.bench_page_words [--renders 500]

Renders a template that reads 400 messages (as a long page does: the screening page reads
about 150) through the pages' gettext (``_("id")``, ``_("id", n=...)`` with a place), in
English and in Vietnamese, and, for scale, the same template reading a plain dict. Prints the
CPU time per message read (``time.process_time``: the machine is shared, wall time is noise).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from jinja2 import Environment

from mesoscreen.domain.vocabulary import Language
from mesoscreen.entrypoints.web.i18n import catalogues, install_gettext

READS_PER_RENDER = 400
_IDS = ["clear", "patients", "save", "intake", "sections.allergy"] * 40


def _per_read_us(render: Callable[[], str], renders: int) -> float:
    for _ in range(20):
        render()
    start = time.process_time()
    for _ in range(renders):
        render()
    return (time.process_time() - start) / renders / READS_PER_RENDER * 1e6


def main() -> None:
    """Print the cost of a message read, per language and beside a plain dict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=500)
    renders = parser.parse_args().renders
    environment = Environment(autoescape=True)
    install_gettext(environment)
    plain = environment.from_string("{% for k in ids %}{{ words[k] }}{% endfor %}")
    words = environment.from_string("{% for k in ids %}{{ _(k) }}{% endfor %}")
    places = environment.from_string(
        '{% for k in ids %}{{ _("header.age", years=loop.index) }}{% endfor %}'
    )
    english = catalogues()[Language.EN]
    plain_us = _per_read_us(lambda: plain.render(words=english, ids=_IDS), renders)
    print(f"plain dict read (for scale): {plain_us:.2f} us")
    for language in Language:
        code = language.value
        word = _per_read_us(lambda: words.render(lang=code, ids=_IDS), renders)  # noqa: B023
        place = _per_read_us(lambda: places.render(lang=code, ids=_IDS), renders)  # noqa: B023
        print(f"{code}: _(id) {word:.2f} us per read, _(id, years=n) {place:.2f} us")
    print(f"a page of 150 reads: about {150 * word / 1000:.2f} ms of CPU for its words")


if __name__ == "__main__":
    main()
