"""YAML as every knowledge file and policy file is read: PyYAML's safe loader, on libyaml.

libyaml's parser (``CSafeLoader``) builds the same documents as the pure-Python one about ten
times faster; the knowledge base's files took 0.14-0.17 s of CPU to parse in Python, paid by
every process that loads them (each CLI command, the server, each bulk run before its work
starts). PyYAML's wheels are built with libyaml; where it is not, the Python parser reads the
same files, more slowly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mesoscreen.domain.errors import KnowledgeBaseError

SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    """The document ``text`` holds, read with the safe loader; ``yaml.YAMLError`` if it is not
    valid YAML."""
    return yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 - a safe loader


def read_yaml(path: Path) -> Any:
    """The document in the knowledge file ``path``; KnowledgeBaseError naming the file when it
    cannot be read or is not valid YAML."""
    try:
        return parse_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KnowledgeBaseError(path.name, "-", f"cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError(path.name, "-", f"is not valid YAML: {exc}") from None
