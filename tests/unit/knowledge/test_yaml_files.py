"""The one YAML reader of knowledge and policy files: libyaml's safe loader, same documents."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mesoscreen.domain.errors import KnowledgeBaseError, PolicyError
from mesoscreen.knowledge import default_knowledge_base, load_policy
from mesoscreen.knowledge.yaml_files import SAFE_LOADER, parse_yaml, read_yaml

KNOWLEDGE = Path(__file__).parents[3] / "src" / "mesoscreen" / "knowledge"
POLICIES = Path(__file__).parents[3] / "examples" / "policies"
SHIPPED = sorted([*KNOWLEDGE.rglob("*.yaml"), *POLICIES.glob("*.yaml")])
PYTHON_OBJECT = "!!python/object/apply:os.getcwd []\n"


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
    """The faster parser builds the very documents the Python one does."""
    text = path.read_text(encoding="utf-8")
    assert read_yaml(path) == yaml.load(text, Loader=yaml.SafeLoader)


def test_python_objects_are_refused_not_built() -> None:
    """A knowledge or policy file names data, never code to run."""
    with pytest.raises(yaml.YAMLError):
        parse_yaml(PYTHON_OBJECT)


def test_a_knowledge_file_with_a_python_object_is_named_as_not_valid(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(PYTHON_OBJECT, encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=r"rules\.yaml.*is not valid YAML"):
        read_yaml(path)


def test_a_policy_with_a_python_object_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(f"name: x\nreadings: {PYTHON_OBJECT}", encoding="utf-8")
    with pytest.raises(PolicyError, match="is not valid YAML or JSON"):
        load_policy(path, default_knowledge_base())


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("a: [1\n", "is not valid YAML"), ("a: 'open\n", "is not valid YAML")],
)
def test_a_broken_file_is_named(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "questions.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=rf"questions\.yaml.*{fragment}"):
        read_yaml(path)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeBaseError, match=r"absent\.yaml.*cannot be read"):
        read_yaml(tmp_path / "absent.yaml")


def test_a_folder_in_a_file_s_place_is_named(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").mkdir()
    with pytest.raises(KnowledgeBaseError, match=r"rules\.yaml.*cannot be read"):
        read_yaml(tmp_path / "rules.yaml")
