"""People's names as typed and as searched: one canonical spelling, one folded search key.

A name is kept exactly as it was typed, but in Unicode NFC, so that "Trần" typed on a
keyboard that sends the letter and its tone marks separately is the same text as one that
sends the precomposed letters. Searching compares *folded* text: case folded, compatibility
forms unfolded (full-width letters, ligatures), every accent and tone mark dropped, and the
few letters that carry their stroke in the letter itself rather than as a combining mark
(Vietnamese đ and Đ, but also ø, ł, ħ, ...) mapped to their base letter, because Unicode
does not decompose them. So "tran", "TRAN" and "Trần" find one another, and "Dung" finds
"Đặng Dung".

These two functions are the one place names are normalised: the patient register, the
name search and the check of a typed consent signature all go through them.
"""

from __future__ import annotations

import unicodedata

# Letters with a stroke, bar or slash built in: NFD leaves them whole, so they are mapped to
# the letter a reader would type without the diacritic. Lower case only: folding comes first.
_UNDECOMPOSED = str.maketrans(
    {
        "đ": "d",  # Vietnamese d with stroke (Đ folds to it)
        "ð": "d",  # eth, as typed on keyboards without it
        "ø": "o",
        "ł": "l",
        "ħ": "h",
        "ŧ": "t",
        "ƀ": "b",
        "ɨ": "i",
        "ı": "i",  # dotless i
        "æ": "ae",
        "œ": "oe",
    }
)


def _collapse_spaces(text: str) -> str:
    """Runs of any kind of white space as one plain space, none at either end."""
    return " ".join(text.split())


def normalise_name(name: str) -> str:
    """``name`` as stored: Unicode NFC, white space collapsed to single spaces and trimmed."""
    return _collapse_spaces(unicodedata.normalize("NFC", name))


def name_search_key(text: str) -> str:
    """``text`` folded for matching: no case, no accents or tone marks, đ as d, single spaces.

    Two spellings of one name a person would call the same give the same key; a search
    matches when the folded query is contained in the folded name.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    # Folded again: a compatibility form may unfold to capitals (the sign for MHz does).
    return _collapse_spaces(bare.casefold().translate(_UNDECOMPOSED))


# Languages whose names are written given name first; every other (and an unknown one) is
# written family name first, as Vietnamese is and as the register lists names.
_GIVEN_NAME_FIRST = frozenset({"en"})


def full_name(family_name: str, given_name: str, language: str | None) -> str:
    """The name as the patient's language writes it: family name first in Vietnamese
    ("Nguyễn Văn Minh"), given name first in English ("John Smith").

    ``language`` is the patient's own language, not the page's: a Vietnamese name stays
    "Nguyễn Văn Minh" on an English page. Unknown keeps the register's order, family first.
    """
    parts = (
        (given_name, family_name) if language in _GIVEN_NAME_FIRST else (family_name, given_name)
    )
    return " ".join(part for part in parts if part)


def same_name(typed: str, registered: str) -> bool:
    """Whether ``typed`` spells ``registered`` up to case, accents, tone marks and spacing."""
    return name_search_key(typed) == name_search_key(registered)
