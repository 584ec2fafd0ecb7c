"""What a screening input file gives, read by the one intake reader every entry point uses.

The command line only opens the terminology server its settings name for the time of the
reading; the reading itself (the kind of document, whose patient it is, the answers) is the
``intake_reading`` service's.
"""

from __future__ import annotations

from datetime import date

from mesoscreen.bootstrap import intake_reader, terminology_service
from mesoscreen.config import Settings
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.services.intake_reading import ScreeningInput


def screening_input(document: object, on: date) -> ScreeningInput:
    """The input ``document`` holds, whatever its kind (told by its resourceType)."""
    terminology = terminology_service(Settings())
    try:
        return intake_reader(default_knowledge_base(), terminology).read(document, on)
    finally:
        if terminology is not None:
            terminology.close()
