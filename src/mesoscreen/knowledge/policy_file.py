"""Read a clinic policy file (YAML or JSON) choosing readings of the knowledge base's conflicts."""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml
from pydantic import ValidationError

from mesoscreen.domain.errors import PolicyError
from mesoscreen.domain.knowledge_base import KnowledgeBase
from mesoscreen.domain.policy import Policy, make_policy
from mesoscreen.knowledge.schema import PolicyModel


def load_policy(path: Path, kb: KnowledgeBase) -> Policy:
    """The policy in ``path``; PolicyError naming the file and field if it is invalid."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise PolicyError(f"policy file {path}: cannot be read ({exc.strerror})") from None
    try:
        document = yaml.safe_load(raw.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError):
        raise PolicyError(f"policy file {path}: is not valid YAML or JSON") from None
    try:
        model = PolicyModel.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "document"
        raise PolicyError(f"policy file {path}: '{where}': {first['msg']}") from None
    try:
        return make_policy(
            kb,
            model.name,
            model.readings,
            content_hash="sha256:" + hashlib.sha256(raw).hexdigest(),
        )
    except PolicyError as exc:
        raise PolicyError(f"policy file {path}: {exc.message}") from None
