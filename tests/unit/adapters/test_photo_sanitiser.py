"""The Pillow sanitiser: JPEG and PNG by content, metadata stripped, limits on bytes and pixels."""

from __future__ import annotations

import hashlib
import struct
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from mesoscreen.adapters.photo_sanitiser import PillowPhotoSanitiser, signature_type
from mesoscreen.domain.errors import InputError, TooLargeError, UnsupportedMediaError
from tests.images import ICC, PATIENT_TEXT, gif, jpeg, opened, png, png_header_only

MIB = 1_048_576


@pytest.fixture
def sanitiser() -> PillowPhotoSanitiser:
    """The sanitiser with the default limits (10 MiB, 40 megapixels)."""
    return PillowPhotoSanitiser(10 * MIB, 40_000_000)


def _no_metadata(image: Image.Image) -> None:
    assert not image.getexif(), dict(image.getexif())
    for key in ("exif", "xmp", "XML:com.adobe.xmp", "comment", "Author", "Comment", "photoshop"):
        assert key not in image.info, key


def test_gps_exif_in_a_jpeg_upload_is_absent_from_the_clean_bytes(
    sanitiser: PillowPhotoSanitiser,
) -> None:
    """EXIF (with GPS and a description), the comment and XMP are gone; the size is kept."""
    upload = jpeg(gps=True)
    assert opened(upload).getexif().get_ifd(0x8825), "the test photo must carry GPS"
    assert PATIENT_TEXT.encode() in upload
    clean = sanitiser.sanitise(upload)
    image = opened(clean.data)
    assert clean.content_type == "image/jpeg"
    assert image.format == "JPEG"
    assert (clean.width, clean.height) == image.size == (64, 32)
    _no_metadata(image)
    assert not image.getexif().get_ifd(0x8825)
    assert PATIENT_TEXT.encode() not in clean.data
    assert b"Exif\x00\x00" not in clean.data
    assert b"ClinicPhone" not in clean.data


def test_gps_and_text_chunks_in_a_png_upload_are_absent_from_the_clean_bytes(
    sanitiser: PillowPhotoSanitiser,
) -> None:
    """The eXIf chunk, tEXt/zTXt/iTXt chunks (XMP too) are dropped from a PNG."""
    upload = png(gps=True)
    assert b"eXIf" in upload
    clean = sanitiser.sanitise(upload)
    image = opened(clean.data)
    assert clean.content_type == "image/png"
    _no_metadata(image)
    for chunk in (b"eXIf", b"tEXt", b"zTXt", b"iTXt"):
        assert chunk not in clean.data, chunk
    assert PATIENT_TEXT.encode() not in clean.data


# The picture's left half is coloured: upright it stays left, a half turn (3) puts it right,
# a quarter turn clockwise (6) puts it on top.
@pytest.mark.parametrize(
    ("orientation", "size", "coloured", "white"),
    [
        (1, (64, 32), (2, 2), (60, 2)),
        (3, (64, 32), (60, 2), (2, 2)),
        (6, (32, 64), (2, 2), (2, 60)),
    ],
)
def test_the_exif_orientation_is_applied_before_it_is_dropped(
    sanitiser: PillowPhotoSanitiser,
    orientation: int,
    size: tuple[int, int],
    coloured: tuple[int, int],
    white: tuple[int, int],
) -> None:
    """A photo the camera marked as turned is stored upright, with no orientation left."""
    clean = sanitiser.sanitise(jpeg(orientation=orientation))
    image = opened(clean.data).convert("RGB")
    assert image.size == size == (clean.width, clean.height)
    assert 0x0112 not in opened(clean.data).getexif()
    red, green, _ = image.getpixel(coloured)  # type: ignore[misc]
    assert red > 150
    assert green < 100
    assert min(image.getpixel(white)) > 200  # type: ignore[type-var]


def test_a_photo_with_corrupt_exif_is_stored_without_it(sanitiser: PillowPhotoSanitiser) -> None:
    """A broken EXIF segment does not refuse the photo (or fail): it is dropped like any other."""
    payload = b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\xff\xff" + b"\x01" * 40
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    upload = jpeg()[:2] + segment + jpeg()[2:]
    with pytest.warns(UserWarning, match="Corrupt EXIF"):  # Pillow's, not an error outside tests
        clean = sanitiser.sanitise(upload)
    assert payload not in clean.data
    assert (clean.width, clean.height) == (64, 32)


def test_the_colour_profile_is_kept(sanitiser: PillowPhotoSanitiser) -> None:
    """The ICC profile survives cleaning, in JPEG and PNG."""
    for upload in (jpeg(gps=True, icc=True), png(gps=True, icc=True)):
        assert opened(sanitiser.sanitise(upload).data).info.get("icc_profile") == ICC


def test_an_upright_jpeg_keeps_its_quantisation_tables(sanitiser: PillowPhotoSanitiser) -> None:
    """Cleaning reuses the original tables (quality 'keep'), so it costs no further quality."""
    upload = jpeg(gps=True, quality=70)
    clean = opened(sanitiser.sanitise(upload).data)
    assert clean.quantization == opened(upload).quantization  # type: ignore[attr-defined]


def test_cleaning_the_clean_bytes_again_changes_nothing(sanitiser: PillowPhotoSanitiser) -> None:
    """Idempotent on a PNG: the same pixels and bytes again."""
    once = sanitiser.sanitise(png(gps=True)).data
    twice = sanitiser.sanitise(once).data
    assert hashlib.sha256(once).digest() == hashlib.sha256(twice).digest()


@pytest.mark.parametrize(
    ("upload", "got"),
    [
        (gif(), "neither"),
        (b"", "empty"),
        (b"%PDF-1.7 not a photo", "neither"),
        (b"\xff\xd8\xff" + b"\x00" * 200, "damaged"),
        (png()[:60], "damaged"),
    ],
    ids=["gif", "empty", "pdf", "garbage-behind-jpeg-signature", "truncated-png"],
)
def test_other_types_and_garbage_are_refused_as_unsupported(
    sanitiser: PillowPhotoSanitiser, upload: bytes, got: str
) -> None:
    """Only JPEG and PNG content passes; the message names the field and what arrived."""
    with pytest.raises(UnsupportedMediaError) as refused:
        sanitiser.sanitise(upload)
    assert "'photo'" in str(refused.value)
    assert "JPEG or PNG" in str(refused.value)
    assert got in str(refused.value)


def test_a_png_behind_a_jpeg_signature_is_refused(sanitiser: PillowPhotoSanitiser) -> None:
    """The signature and the decoded format must agree."""
    with pytest.raises(UnsupportedMediaError):
        sanitiser.sanitise(b"\xff\xd8\xff" + png())


def test_a_photo_over_the_byte_limit_is_refused_as_too_large() -> None:
    """One byte over the limit is refused, naming the limit; at the limit it passes."""
    upload = jpeg()
    PillowPhotoSanitiser(len(upload), 40_000_000).sanitise(upload)
    with pytest.raises(TooLargeError) as refused:
        PillowPhotoSanitiser(len(upload) - 1, 40_000_000).sanitise(upload)
    assert f"at most {len(upload) - 1} bytes" in str(refused.value)
    assert "'photo'" in str(refused.value)


def test_a_photo_over_the_pixel_limit_is_refused_before_it_is_decoded(
    sanitiser: PillowPhotoSanitiser,
) -> None:
    """A header claiming 50 megapixels is refused from the header alone (no bomb is decoded)."""
    with pytest.raises(InputError) as refused:
        sanitiser.sanitise(png_header_only(10_000, 5_000))
    assert not isinstance(refused.value, UnsupportedMediaError)
    assert "at most 40000000 pixels" in str(refused.value)
    assert "10000 x 5000" in str(refused.value)


def test_a_decompression_bomb_past_pillows_own_guard_is_refused_as_too_many_pixels(
    sanitiser: PillowPhotoSanitiser,
) -> None:
    """Far past Pillow's guard (a 40000 x 40000 header) is still our pixel refusal."""
    with pytest.raises(InputError) as refused:
        sanitiser.sanitise(png_header_only(40_000, 40_000))
    assert "pixels" in str(refused.value)


def test_the_pixel_limit_is_inclusive() -> None:
    """Exactly the limit passes; one pixel fewer refuses."""
    upload = png(64, 32)
    PillowPhotoSanitiser(MIB, 64 * 32).sanitise(upload)
    with pytest.raises(InputError):
        PillowPhotoSanitiser(MIB, 64 * 32 - 1).sanitise(upload)


def test_the_signature_names_only_jpeg_and_png() -> None:
    """JPEG and PNG signatures are recognised; a GIF is not."""
    assert signature_type(jpeg()) == "image/jpeg"
    assert signature_type(png()) == "image/png"
    assert signature_type(gif()) is None


_VALID = (jpeg(gps=True), png(gps=True))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    source=st.sampled_from(_VALID),
    cuts=st.lists(st.tuples(st.integers(0, 4000), st.binary(min_size=0, max_size=8)), max_size=6),
)
def test_damaged_uploads_are_refused_as_input_never_a_crash(
    source: bytes, cuts: list[tuple[int, bytes]]
) -> None:
    """Valid photos with bytes overwritten or cut: cleaned, or refused with an InputError."""
    sanitiser = PillowPhotoSanitiser(10 * MIB, 40_000_000)
    data = bytearray(source)
    for position, replacement in cuts:
        at = position % max(len(data), 1)
        data[at : at + len(replacement) + 1] = replacement
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about what it skips; that is no failure
        try:
            clean = sanitiser.sanitise(bytes(data))
        except InputError:
            return
    assert PATIENT_TEXT.encode() not in clean.data
    assert opened(clean.data).size == (clean.width, clean.height)
