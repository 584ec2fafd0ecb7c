"""The knowledge base as validated data files, and the clinic policy files that choose readings."""

from __future__ import annotations

from functools import cache

from mesoscreen.domain.knowledge_base import KnowledgeBase
from mesoscreen.knowledge.loader import (
    DEFAULT_DATA_DIR,
    DEFAULT_SOURCES_DIR,
    load_knowledge_base,
)
from mesoscreen.knowledge.policy_file import load_policy


@cache
def default_knowledge_base() -> KnowledgeBase:
    """The shipped knowledge base, loaded and validated once per process."""
    return load_knowledge_base()


__all__ = [
    "DEFAULT_DATA_DIR",
    "DEFAULT_SOURCES_DIR",
    "default_knowledge_base",
    "load_knowledge_base",
    "load_policy",
]
