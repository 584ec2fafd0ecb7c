"""Clinical photos checked and cleaned with Pillow: JPEG or PNG by content, metadata stripped.

The type is judged from the bytes (the format's signature and what Pillow decodes), never
from a declared media type or a file name. The image is re-encoded from its pixels so nothing
of the upload's metadata survives but what is kept on purpose: the ICC colour profile (the
picture's colours), the pixel density and PNG transparency. EXIF (with GPS), XMP, IPTC,
comments and PNG text/eXIf chunks are dropped; the EXIF orientation is applied first, so the
photo still shows upright. An upright JPEG keeps its own quantisation tables
(``quality="keep"``), so cleaning costs no further loss of quality.
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps, JpegImagePlugin, UnidentifiedImageError

from mesoscreen.domain.errors import InputError, TooLargeError, UnsupportedMediaError
from mesoscreen.domain.reasons import Reason, problem
from mesoscreen.services.ports import CleanImage

JPEG = "image/jpeg"
PNG = "image/png"
_SIGNATURES = ((b"\xff\xd8\xff", JPEG), (b"\x89PNG\r\n\x1a\n", PNG))
# Pillow's names for what it decoded; MPO is the multi-picture JPEG some phones write.
_DECODED = {"JPEG": JPEG, "MPO": JPEG, "PNG": PNG}
_EXPECTED = "a JPEG or PNG image"
# Left in ``info`` (and so written again): what the picture needs to look the same.
_KEPT_INFO = frozenset({"icc_profile", "dpi", "transparency", "gamma"})
_EXIF_ORIENTATION = 0x0112


def signature_type(data: bytes) -> str | None:
    """The media type the first bytes announce (JPEG or PNG), or None."""
    return next((kind for magic, kind in _SIGNATURES if data.startswith(magic)), None)


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation (1: upright); 1 when the EXIF is unreadable, as it is dropped."""
    try:
        value = image.getexif().get(_EXIF_ORIENTATION, 1)
    # Corrupt EXIF fails in many ways inside Pillow; the pixels are then kept as they are.
    except Exception:
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


class PillowPhotoSanitiser:
    """Checks type, size and pixel count of a photo, then re-encodes it without metadata."""

    def __init__(self, max_bytes: int, max_pixels: int) -> None:
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels

    def sanitise(self, data: bytes) -> CleanImage:
        """The clean image; UnsupportedMediaError, TooLargeError or InputError naming 'photo'."""
        if len(data) > self.max_bytes:
            raise TooLargeError(
                f"'photo': must be at most {self.max_bytes} bytes (got {len(data)} bytes)",
                problems=problem(
                    Reason.PHOTO_TOO_LARGE, "photo", most_mb=round(self.max_bytes / 1_048_576, 1)
                ),
            )
        announced = signature_type(data)
        if announced is None:
            got = "an empty file" if not data else "content that is neither"
            raise UnsupportedMediaError(
                f"'photo': expected {_EXPECTED} (got {got})",
                problems=problem(Reason.PHOTO_NOT_AN_IMAGE, "photo"),
            )
        image = self._open(data, announced)
        try:
            return self._clean(image)
        finally:
            image.close()

    def _open(self, data: bytes, announced: str) -> Image.Image:
        """The decoded image, after the format and pixel checks (headers only, then pixels)."""
        try:
            image = Image.open(io.BytesIO(data), formats=["JPEG", "PNG"])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise self._too_many_pixels(None) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise UnsupportedMediaError(
                f"'photo': expected {_EXPECTED} (got a damaged or unreadable {announced})",
                problems=problem(Reason.PHOTO_DAMAGED, "photo"),
            ) from None
        decoded = _DECODED.get(image.format or "")
        if decoded != announced:
            image.close()
            raise UnsupportedMediaError(
                f"'photo': expected {_EXPECTED} (got {image.format} content behind a "
                f"{announced} signature)",
                problems=problem(Reason.PHOTO_TYPE_MISMATCH, "photo"),
            )
        width, height = image.size
        if width * height > self.max_pixels:
            image.close()
            raise self._too_many_pixels((width, height))
        try:
            image.load()
        except (OSError, SyntaxError, ValueError):
            image.close()
            raise UnsupportedMediaError(
                f"'photo': expected {_EXPECTED} (got a damaged or truncated {announced})",
                problems=problem(Reason.PHOTO_DAMAGED, "photo"),
            ) from None
        return image

    def _too_many_pixels(self, size: tuple[int, int] | None) -> InputError:
        got = f"{size[0]} x {size[1]} = {size[0] * size[1]}" if size else "far more"
        return InputError(
            f"'photo': must have at most {self.max_pixels} pixels (got {got})",
            problems=problem(Reason.PHOTO_TOO_MANY_PIXELS, "photo", most=self.max_pixels),
        )

    @staticmethod
    def _clean(image: Image.Image) -> CleanImage:
        """Upright, metadata dropped, encoded again in its own format."""
        content_type = _DECODED[image.format or ""]
        upright = _orientation(image) == 1
        picture = image if upright else ImageOps.exif_transpose(image)
        for key in list(picture.info):
            if key not in _KEPT_INFO:
                del picture.info[key]
        options: dict[str, object] = {}
        icc = picture.info.get("icc_profile")
        if icc:
            options["icc_profile"] = icc
        if "dpi" in picture.info:
            options["dpi"] = picture.info["dpi"]
        out = io.BytesIO()
        if content_type == PNG:
            picture.save(out, "PNG", optimize=False, **options)
        elif upright and isinstance(image, JpegImagePlugin.JpegImageFile):
            picture.save(out, "JPEG", quality="keep", **options)
        else:
            # Turned upright: the pixels changed, so reuse the original's tables and sampling.
            sampling = JpegImagePlugin.get_sampling(image)
            if isinstance(image, JpegImagePlugin.JpegImageFile) and image.quantization:
                options["qtables"] = image.quantization
            if sampling >= 0:
                options["subsampling"] = sampling
            picture.save(out, "JPEG", **options)
        clean = out.getvalue()
        return CleanImage(clean, content_type, picture.width, picture.height)
