"""Clinic policy files: readings chosen by name, refused with a clear message when wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from mesoscreen.domain.errors import PolicyError
from mesoscreen.knowledge import default_knowledge_base, load_policy

EXAMPLE = Path(__file__).parents[3] / "examples" / "policies" / "supervised-chronic-disease.yaml"


def test_the_example_policy_chooses_its_readings_and_records_its_hash() -> None:
    """The decision can name the policy file's content by hash."""
    policy = load_policy(EXAMPLE, default_knowledge_base())
    assert policy.reading_for("insulin_dependent_diabetes") == "defer_until_stable"
    assert policy.content_hash is not None
    assert policy.content_hash.startswith("sha256:")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("name: x\nreadings: {diabetes: lenient}\n", "'readings.diabetes': not a conflict"),
        (
            "name: x\nreadings: {insulin_dependent_diabetes: lenient}\n",
            "expected one of absolute, defer_until_stable (got 'lenient')",
        ),
        ("readings: {}\n", "'name': Field required"),
        ("name: x\nextra: 1\n", "'extra': Extra inputs are not permitted"),
        ("name: [\n", "is not valid YAML or JSON"),
    ],
)
def test_a_bad_policy_file_is_refused_naming_the_field(
    tmp_path: Path, text: str, fragment: str
) -> None:
    """Unknown conflicts, unknown readings and malformed files are refused."""
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(path, default_knowledge_base())
    assert fragment in str(caught.value)
    assert str(path) in str(caught.value)


def test_a_missing_policy_file_is_refused(tmp_path: Path) -> None:
    """A path that does not exist is an input error, not a crash."""
    with pytest.raises(PolicyError, match="cannot be read"):
        load_policy(tmp_path / "none.yaml", default_knowledge_base())
