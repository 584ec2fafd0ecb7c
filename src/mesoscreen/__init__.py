"""Mesoscreen: clinical decision support for scalp mesotherapy for hair loss.

Decision support for clinicians, never a replacement for their judgement.
"""

from mesoscreen._public import screen
from mesoscreen.domain.decision import Decision, ExcludedIngredient, Finding, RequiredAction
from mesoscreen.domain.errors import (
    ConflictError,
    InputError,
    IntakeError,
    KnowledgeBaseError,
    MesoscreenError,
    NotFoundError,
    PermissionDeniedError,
    PlanError,
    PolicyError,
)
from mesoscreen.domain.knowledge_base import Citation
from mesoscreen.domain.policy import Policy
from mesoscreen.domain.vocabulary import Answer, Category, Outcome

__version__ = "0.1.0"

__all__ = [
    "Answer",
    "Category",
    "Citation",
    "ConflictError",
    "Decision",
    "ExcludedIngredient",
    "Finding",
    "InputError",
    "IntakeError",
    "KnowledgeBaseError",
    "MesoscreenError",
    "NotFoundError",
    "Outcome",
    "PermissionDeniedError",
    "PlanError",
    "Policy",
    "PolicyError",
    "RequiredAction",
    "__version__",
    "screen",
]
