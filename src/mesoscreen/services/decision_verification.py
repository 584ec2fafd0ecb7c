"""A decision given as JSON is trusted only when this system makes it again, identically.

A decision printed by ``mesoscreen screen --json`` carries the answers it was made from
(``input.answers``) and the knowledge base and policy it was made with. To use it (e.g. for
``mesoscreen plan --screening``) the answers are screened again on the decision's screening
date with the knowledge base and policy in force, and the result must equal the document in
every field. A hand-written or edited decision fails; a hash alone would not prove this, since
anyone can compute one over an edited file.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from mesoscreen.domain.comparison import first_difference
from mesoscreen.domain.decision import Decision
from mesoscreen.domain.errors import InputError
from mesoscreen.services.screening import ScreeningService

# Keys a printed decision carries beside the decision itself.
NOT_DECIDED = frozenset({"input"})


def looks_like_decision(document: object) -> bool:
    """Whether ``document`` presents itself as a decision rather than an intake."""
    return isinstance(document, Mapping) and "outcome" in document


def verified_decision(document: Mapping[str, Any], screening: ScreeningService) -> Decision:
    """The decision ``document`` states, made again from its own input; InputError naming the
    first thing that does not match (the input missing, another knowledge base or policy, or
    any field that differs from what the engine makes)."""
    given = document.get("input")
    answers = given.get("answers") if isinstance(given, Mapping) else None
    if not isinstance(answers, Mapping):
        raise InputError(
            "'input.answers': missing, so the decision cannot be verified (expected a decision "
            "printed by `mesoscreen screen --json`, or the intake itself)"
        )
    stated = document.get("knowledge_base")
    in_force = screening.kb.content_hash
    stated_hash = stated.get("hash") if isinstance(stated, Mapping) else None
    if stated_hash != in_force:
        raise InputError(
            f"'knowledge_base.hash': the decision was made with {str(stated_hash)[:19]}, not the "
            f"knowledge base in force ({in_force[:19]}); screen the intake again"
        )
    policy = document.get("policy")
    stated_policy = policy.get("hash") if isinstance(policy, Mapping) else None
    if stated_policy != screening.policy.content_hash:
        raise InputError(
            f"'policy.hash': the decision was made under another policy "
            f"({str(stated_policy)[:19]}) than the one given ({screening.policy.name}); "
            "pass the same --policy"
        )
    try:
        day = date.fromisoformat(str(document.get("screening_date")))
    except ValueError:
        raise InputError("'screening_date': expected a date YYYY-MM-DD") from None
    decision = screening.screen(answers, day)
    claimed = {key: value for key, value in document.items() if key not in NOT_DECIDED}
    difference = first_difference(claimed, decision.as_dict(), made_by="engine")
    if difference is not None:
        raise InputError(
            f"'{difference.split(':', 1)[0]}': the decision is not what the engine makes from "
            f"its own input ({difference}); it was edited or made by another version"
        )
    return decision
