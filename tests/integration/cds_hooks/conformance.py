"""What CDS Hooks 2.0 asks of a service response and its cards, checked field by field."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import get_fhir_model_class

INDICATORS = {"info", "warning", "critical"}
ACTION_TYPES = {"create", "update", "delete"}


def _no_empty_values(value: Any, where: str) -> None:
    """The specification forbids null and empty JSON values (``null``, ``""``, ``[]``, ``{}``)."""
    assert value not in (None, "", [], {}), where
    if isinstance(value, dict):
        for key, inner in value.items():
            _no_empty_values(inner, f"{where}.{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            _no_empty_values(inner, f"{where}[{index}]")


def assert_conforms(response: dict[str, Any]) -> None:
    """A 200 response body: cards with the required fields, valid FHIR in create actions."""
    assert set(response) <= {"cards", "systemActions"}
    assert isinstance(response["cards"], list)
    for index, card in enumerate(response["cards"]):
        _no_empty_values(card, f"cards[{index}]")
        assert 0 < len(card["summary"]) < 140
        assert card["indicator"] in INDICATORS
        assert card["source"]["label"]
        if "suggestions" in card:
            assert card["selectionBehavior"] in {"at-most-one", "any"}
        for suggestion in card.get("suggestions", []):
            assert suggestion["label"]
            for action in suggestion.get("actions", []):
                assert action["type"] in ACTION_TYPES
                assert action["description"]
                if action["type"] == "delete":
                    kind, _, rid = action["resourceId"].partition("/")
                    assert kind
                    assert rid
                else:
                    resource = action["resource"]
                    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        for reason in card.get("overrideReasons", []):
            assert reason["code"]
            assert reason["display"]
        for link in card.get("links", []):
            assert link["label"]
            assert link["type"] in {"absolute", "smart"}
            assert link["url"].startswith("https://")
            if link["type"] == "absolute":
                assert "appContext" not in link
