"""The vertex has one name in each language wherever a page shows it (map zone, photo view)."""

from __future__ import annotations

import pytest

from mesoscreen.domain.vocabulary import Language
from mesoscreen.entrypoints.web.i18n import messages
from mesoscreen.knowledge.planning_loader import load_atlas


@pytest.mark.parametrize("language", list(Language))
def test_the_map_zone_and_the_photo_view_name_the_vertex_alike(language: Language) -> None:
    """The injection map's zone and the photo gallery's view read the same."""
    zone = load_atlas().zones["vertex"].name.in_language(language.value)
    assert zone == messages()[language].gettext("photos.views.vertex")


def test_the_vertex_stage_uses_the_same_term() -> None:
    """Norwood III vertex is named with the zone's own word."""
    stage = load_atlas().stages["norwood-3v"].name
    assert "đỉnh đầu" in stage.vi
    assert "vertex" in stage.en
