"""The screening use case: check an intake, evaluate it, return the decision."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from functools import lru_cache

from mesoscreen.domain.decision import Decision
from mesoscreen.domain.errors import IntakeError
from mesoscreen.domain.intake import IntakeSchema
from mesoscreen.domain.knowledge_base import KnowledgeBase, Rule
from mesoscreen.domain.policy import Policy, default_policy
from mesoscreen.domain.screening import Screener


class ScreeningService:
    """Screens raw intakes with one knowledge base under one clinic policy."""

    def __init__(
        self,
        kb: KnowledgeBase,
        policy: Policy | None = None,
        rules: Sequence[Rule] | None = None,
    ) -> None:
        """``rules`` replace the knowledge base's rules when given: the seam through which a
        test screens with a rule that fails, or with one more rule, the way the shipped
        knowledge base would be screened (same questions, same policy, same screener)."""
        self.kb = kb
        self.policy = policy if policy is not None else default_policy(kb)
        screened = kb if rules is None else replace(kb, rules=tuple(rules))
        self.screener = Screener(screened, self.policy)
        self.schema = IntakeSchema(kb.questions)

    def screen(self, raw: Mapping[str, object], on: date) -> Decision:
        """The decision for the raw intake ``raw`` on ``on``; IntakeError if it is invalid."""
        if not isinstance(raw, Mapping):
            raise IntakeError("intake", f"must be a JSON object (got a {type(raw).__name__})")
        intake = self.schema.parse(raw, on)
        return self.screener.evaluate(intake, on)


@lru_cache(maxsize=8)
def screening_service(kb: KnowledgeBase, policy: Policy | None = None) -> ScreeningService:
    """A shared service per knowledge base and policy (building one indexes the rules)."""
    return ScreeningService(kb, policy)
