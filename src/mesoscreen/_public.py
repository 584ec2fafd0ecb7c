"""The Python API for library users: ``mesoscreen.screen(intake, on=date)``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

from mesoscreen.domain.decision import Decision
from mesoscreen.domain.policy import Policy


def screen(
    intake: Mapping[str, object],
    on: date | None = None,
    policy: Policy | str | Path | None = None,
) -> Decision:
    """Screen one intake with the shipped knowledge base.

    ``on`` is the screening date (today when omitted, in the machine's time zone);
    ``policy`` is a clinic policy or the path of a policy file (when omitted, the file
    the ``MESOSCREEN_POLICY_FILE`` setting names, else the stricter reading of every
    source conflict). Raises ``IntakeError`` for an invalid intake; every
    clinical outcome, ``contraindicated`` included, is a returned ``Decision``.
    """
    # Imported here: ``import mesoscreen`` stays light (the root also knows the database).
    from mesoscreen.bootstrap import command_clock, screening_service
    from mesoscreen.config import Settings

    chosen = Path(policy) if isinstance(policy, str) else policy
    if chosen is None:
        chosen = Settings().policy_file  # MESOSCREEN_POLICY_FILE, as the commands honour it
    return screening_service(chosen).screen(
        intake, on if on is not None else command_clock().today()
    )
