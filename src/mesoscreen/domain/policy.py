"""Clinic policy: which reading of each source conflict the clinic has chosen."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from mesoscreen.domain.errors import PolicyError
from mesoscreen.domain.knowledge_base import KnowledgeBase

DEFAULT_POLICY_NAME = (
    "default: the stricter reading of every source conflict unless its default_reason says why not"
)


@dataclass(frozen=True, slots=True)
class Policy:
    """A named choice of reading for every source conflict of the knowledge base."""

    name: str
    readings: Mapping[str, str]
    content_hash: str | None = None
    explicit: frozenset[str] = field(default_factory=frozenset)

    def __hash__(self) -> int:
        """Hash of name, readings and file hash (a mapping is not hashable itself)."""
        return hash((self.name, tuple(sorted(self.readings.items())), self.content_hash))

    def reading_for(self, conflict_id: str) -> str:
        """The reading in force for ``conflict_id``."""
        return self.readings[conflict_id]

    def as_dict(self) -> dict[str, object]:
        """JSON form recorded in every decision."""
        return {
            "name": self.name,
            "readings": dict(sorted(self.readings.items())),
            "hash": self.content_hash,
        }


def default_policy(kb: KnowledgeBase) -> Policy:
    """The policy a clinic gets without a policy file: each conflict's default reading."""
    return Policy(
        name=DEFAULT_POLICY_NAME,
        readings=MappingProxyType({cid: c.default for cid, c in kb.conflicts.items()}),
    )


def make_policy(
    kb: KnowledgeBase,
    name: str,
    chosen: Mapping[str, str],
    content_hash: str | None = None,
) -> Policy:
    """A policy choosing ``chosen`` readings, defaults elsewhere; PolicyError if any is unknown."""
    if not name.strip():
        raise PolicyError("policy 'name': must be a non-empty string (got an empty one)")
    readings = {cid: c.default for cid, c in kb.conflicts.items()}
    for conflict_id, reading_id in chosen.items():
        conflict = kb.conflicts.get(conflict_id)
        if conflict is None:
            known = ", ".join(sorted(kb.conflicts)) or "none"
            raise PolicyError(
                f"policy 'readings.{conflict_id}': not a conflict of the knowledge base "
                f"(expected one of: {known})"
            )
        reading_ids = [r.id for r in conflict.readings]
        if reading_id not in reading_ids:
            raise PolicyError(
                f"policy 'readings.{conflict_id}': expected one of {', '.join(reading_ids)} "
                f"(got {reading_id!r})"
            )
        readings[conflict_id] = reading_id
    return Policy(
        name=name.strip(),
        readings=MappingProxyType(readings),
        content_hash=content_hash,
        explicit=frozenset(chosen),
    )
