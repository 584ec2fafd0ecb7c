"""YAML as every shipped knowledge file is read: PyYAML's safe loader, on libyaml.

libyaml's parser (``CSafeLoader``) reads the shipped files into the same documents as the
pure-Python one (a test compares every file), in a tenth of the time: the knowledge base's nine
files took 0.14-0.17 s of CPU to parse in Python against 0.013 s, paid by every process that
loads them (each CLI command, the server, each bulk run before its first patient). PyYAML's
wheels are built with libyaml; where it is not, the Python parser reads the same files.

The two parsers differ on some other texts: libyaml takes a tab where the Python parser wants a
space (``a:\tb``), refuses a surrogate pair escaped in a double-quoted string, and words its
errors differently (a line and a column, no quoted source line). Clinic policy files, written
by hand outside this package, are still read by the Python parser (``policy_file``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mesoscreen.domain.errors import KnowledgeBaseError

SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> Any:
    """The document in the knowledge file ``path``; KnowledgeBaseError naming the file when it
    cannot be read, is not UTF-8 text or is not valid YAML."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)  # noqa: S506 - safe
    except OSError as exc:
        raise KnowledgeBaseError(path.name, "-", f"cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise KnowledgeBaseError(path.name, "-", f"is not UTF-8 text (byte {exc.start})") from None
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError(path.name, "-", f"is not valid YAML: {exc}") from None
