"""The API's paging parameters, one definition for every list: ``offset`` and ``limit``.

Both are bounded by the domain's rule (``domain.text.MAX_PAGE_POSITION``, 2^31-1), so a number
past what a database counts with is a 422 naming the parameter, and the OpenAPI document says
so; the services check the same bounds again (``page_bounds``) for the pages and the CLI.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from mesoscreen.domain.text import MAX_PAGE_POSITION
from mesoscreen.services.recording import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

Offset = Annotated[
    int,
    Query(ge=0, le=MAX_PAGE_POSITION, description="How many matches to skip."),
]
Limit = Annotated[
    int,
    Query(
        ge=1,
        le=MAX_PAGE_POSITION,
        description=f"Matches per page (at most {MAX_PAGE_SIZE} are returned).",
    ),
]

__all__ = ["DEFAULT_PAGE_SIZE", "Limit", "Offset"]
