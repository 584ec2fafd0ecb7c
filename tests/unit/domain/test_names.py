"""Names are stored in NFC and matched without case, accents, tone marks or đ's stroke."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from mesoscreen.domain.names import full_name, name_search_key, normalise_name, same_name

VIETNAMESE = ["Trần", "Nguyễn Thị Lan", "Đặng", "Phạm Quỳnh Anh", "Lê Văn Đức", "Hồ"]


def test_a_name_typed_with_combining_marks_is_stored_as_the_precomposed_one() -> None:
    """NFD 'Trần' (the letter, then its marks) is stored exactly as NFC 'Trần'."""
    decomposed = unicodedata.normalize("NFD", "Trần")
    assert decomposed != "Trần"
    assert normalise_name(decomposed) == "Trần"


def test_stored_names_keep_their_accents_and_lose_only_stray_spaces() -> None:
    """Normalising never drops a mark; it trims and collapses white space."""
    assert normalise_name("  Nguyễn \t Thị  Lan ") == "Nguyễn Thị Lan"


def test_tran_finds_tran_with_its_tone_marks_in_any_case() -> None:
    """'Tran', 'TRAN' and 'trần' share one key with 'Trần'."""
    assert {name_search_key(n) for n in ("Tran", "TRAN", "trần", "Trần")} == {"tran"}


def test_vietnamese_d_with_stroke_is_matched_by_a_plain_d() -> None:
    """Đ and đ are not decomposed by Unicode, so they are mapped to d explicitly."""
    assert name_search_key("Đặng") == "dang"
    assert name_search_key("Lê Văn Đức") == "le van duc"
    assert same_name("dang", "Đặng")


def test_other_letters_with_a_built_in_stroke_and_compatibility_forms_fold() -> None:
    """ø, ł, full-width letters and ligatures fold to what a plain keyboard types."""
    assert name_search_key("Søren Łukasz") == "soren lukasz"
    assert name_search_key("ＴＲＡＮ") == "tran"
    assert name_search_key("Straße") == "strasse"


def test_different_names_keep_different_keys() -> None:
    """Folding is not so loose that different names meet."""
    assert name_search_key("Lan") != name_search_key("Lam")
    assert not same_name("Trần", "Trân Anh")


@given(st.sampled_from(VIETNAMESE), st.sampled_from(["NFC", "NFD", "NFKC", "NFKD"]))
def test_every_unicode_spelling_of_a_name_has_one_key_and_one_stored_form(
    name: str, form: str
) -> None:
    """Whatever normal form a keyboard sends, the stored name and the key are the same."""
    spelled = unicodedata.normalize(form, name)  # type: ignore[arg-type]
    assert normalise_name(spelled) == name
    assert name_search_key(spelled) == name_search_key(name)


@given(st.text(max_size=40))
def test_the_key_is_stable_plain_lower_case_text(text: str) -> None:
    """Folding a key again changes nothing, and a key holds no combining mark."""
    key = name_search_key(text)
    assert name_search_key(key) == key
    assert not any(unicodedata.combining(c) for c in key)
    assert key == key.casefold()


def test_a_vietnamese_name_is_written_family_name_first() -> None:
    """Nguyễn (family) Văn Minh (given) reads "Nguyễn Văn Minh", never "Văn Minh Nguyễn"."""
    assert full_name("Nguyễn", "Văn Minh", "vi") == "Nguyễn Văn Minh"


def test_an_english_name_is_written_given_name_first() -> None:
    """Smith (family) John (given) reads "John Smith"."""
    assert full_name("Smith", "John", "en") == "John Smith"


def test_a_name_whose_language_is_not_recorded_keeps_the_registers_order() -> None:
    """Unknown language: family name first, as the register lists it, nothing guessed."""
    assert full_name("Nguyễn", "Văn Minh", None) == "Nguyễn Văn Minh"
    assert full_name("Nguyễn", "", None) == "Nguyễn"
