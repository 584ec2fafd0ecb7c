"""The Python API for library users: ``mesoscreen.screen(intake, on=date)``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

from mesoscreen.domain.decision import Decision
from mesoscreen.domain.policy import Policy
from mesoscreen.knowledge import default_knowledge_base, load_policy
from mesoscreen.services.screening import screening_service


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
    # Imported here: ``import mesoscreen`` stays light for a caller who only screens.
    from mesoscreen.bootstrap import command_clock, settings_policy
    from mesoscreen.config import Settings

    kb = default_knowledge_base()
    if isinstance(policy, str | Path):
        policy = load_policy(Path(policy), kb)
    elif policy is None:
        policy = settings_policy(Settings(), kb)
    return screening_service(kb, policy).screen(
        intake, on if on is not None else command_clock().today()
    )
