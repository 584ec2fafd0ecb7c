"""The one YAML reader of the shipped knowledge files: libyaml's safe loader, same documents."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mesoscreen.domain.errors import KnowledgeBaseError, PolicyError
from mesoscreen.knowledge import default_knowledge_base, load_policy
from mesoscreen.knowledge.yaml_files import SAFE_LOADER, read_yaml

KNOWLEDGE = Path(__file__).parents[3] / "src" / "mesoscreen" / "knowledge"
POLICIES = Path(__file__).parents[3] / "examples" / "policies"
SHIPPED = sorted([*KNOWLEDGE.rglob("*.yaml"), *POLICIES.glob("*.yaml")])
# What a safe loader refuses and a fuller one builds: a call, a function, a tuple, an object.
PYTHON_TAGS = (
    "!!python/object/apply:os.getcwd []",
    "!!python/name:os.getcwd ''",
    "!!python/tuple [1, 2]",
    "!!python/object:pathlib.PurePosixPath {}",
)


def _typed(document: object) -> object:
    """``document`` with every value beside its type, so that ``True``, ``1`` and ``1.0``
    differ."""
    if isinstance(document, dict):
        return {_typed(key): _typed(value) for key, value in document.items()}
    if isinstance(document, list):
        return [_typed(item) for item in document]
    return (type(document).__name__, document)


def test_every_knowledge_folder_ships_yaml() -> None:
    """The comparison below reads the files of every loader."""
    folders = {path.parent.name for path in SHIPPED}
    assert {"data", "valuesets", "planning", "consent", "outcomes", "policies"} <= folders


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML built without libyaml")
def test_the_loader_is_libyaml_s_when_pyyaml_has_it() -> None:
    """The pure-Python parser took ten times as long on the knowledge base."""
    assert SAFE_LOADER is yaml.CSafeLoader


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_every_shipped_file_reads_as_the_python_safe_loader_reads_it(path: Path) -> None:
    """The faster parser builds the very documents the Python one does, types and all."""
    text = path.read_text(encoding="utf-8")
    assert _typed(read_yaml(path)) == _typed(yaml.load(text, Loader=yaml.SafeLoader))


@pytest.mark.parametrize("tag", PYTHON_TAGS)
def test_a_knowledge_file_with_a_python_object_is_named_as_not_valid(
    tmp_path: Path, tag: str
) -> None:
    """A knowledge file names data, never code to run."""
    path = tmp_path / "rules.yaml"
    path.write_text(f"rules: {tag}\n", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=r"rules\.yaml.*is not valid YAML"):
        read_yaml(path)


@pytest.mark.parametrize("tag", PYTHON_TAGS)
def test_a_policy_with_a_python_object_is_refused(tmp_path: Path, tag: str) -> None:
    """A clinic's policy file, too, names readings and never builds an object."""
    path = tmp_path / "policy.yaml"
    path.write_text(f"name: x\nreadings: {tag}\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="is not valid YAML or JSON"):
        load_policy(path, default_knowledge_base())


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("a: [1\n", "is not valid YAML"), ("a: 'open\n", "is not valid YAML")],
)
def test_a_broken_file_is_named(tmp_path: Path, text: str, fragment: str) -> None:
    """The message names the file and says what is wrong with it."""
    path = tmp_path / "questions.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=rf"questions\.yaml.*{fragment}"):
        read_yaml(path)


def test_a_file_that_is_not_utf_8_is_named(tmp_path: Path) -> None:
    """Latin-1 bytes are reported with the file's name, not as a traceback."""
    path = tmp_path / "actions.yaml"
    path.write_bytes("actions: [caf\u00e9]\n".encode("latin-1"))
    with pytest.raises(KnowledgeBaseError, match=r"actions\.yaml.*is not UTF-8 text"):
        read_yaml(path)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    """A file the knowledge needs and cannot find is named."""
    with pytest.raises(KnowledgeBaseError, match=r"absent\.yaml.*cannot be read"):
        read_yaml(tmp_path / "absent.yaml")


def test_a_folder_in_a_file_s_place_is_named(tmp_path: Path) -> None:
    """A folder where a file should be is unreadable, and named."""
    (tmp_path / "rules.yaml").mkdir()
    with pytest.raises(KnowledgeBaseError, match=r"rules\.yaml.*cannot be read"):
        read_yaml(tmp_path / "rules.yaml")
