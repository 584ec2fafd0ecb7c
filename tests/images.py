"""Generated test photos: JPEG and PNG with or without EXIF (GPS, orientation), text and ICC."""

from __future__ import annotations

import io
import random
import struct
import zlib

from PIL import Image, PngImagePlugin
from PIL.ExifTags import GPS, IFD, Base

# Where the tests say the photos were taken: Ho Chi Minh City.
LATITUDE = (10.0, 46.0, 36.0)
LONGITUDE = (106.0, 41.0, 24.0)
PATIENT_TEXT = "Zyxwquorra Lan"  # a name no photo should keep
ICC = b"test-icc-profile-bytes"


def exif_with_gps(orientation: int = 1) -> Image.Exif:
    """EXIF naming the camera, the orientation and where the photo was taken."""
    exif = Image.Exif()
    exif[Base.Make] = "ClinicPhone"
    exif[Base.ImageDescription] = PATIENT_TEXT
    exif[Base.Orientation] = orientation
    exif.get_ifd(IFD.GPSInfo).update(
        {
            GPS.GPSLatitudeRef: "N",
            GPS.GPSLatitude: LATITUDE,
            GPS.GPSLongitudeRef: "E",
            GPS.GPSLongitude: LONGITUDE,
        }
    )
    return exif


def _picture(width: int, height: int, colour: tuple[int, int, int]) -> Image.Image:
    """A picture whose left half is ``colour`` and right half white, so a turn shows."""
    image = Image.new("RGB", (width, height), (255, 255, 255))
    image.paste(colour, (0, 0, width // 2, height))
    return image


def jpeg(
    width: int = 64,
    height: int = 32,
    *,
    gps: bool = False,
    orientation: int = 1,
    colour: tuple[int, int, int] = (200, 30, 30),
    quality: int = 90,
    icc: bool = False,
) -> bytes:
    """A JPEG; with ``gps`` it carries EXIF with GPS, a description, a comment and XMP."""
    options: dict[str, object] = {"quality": quality}
    if gps or orientation != 1:
        options["exif"] = exif_with_gps(orientation)
    if gps:
        options["comment"] = PATIENT_TEXT.encode()
        options["xmp"] = f"<x:xmpmeta><dc:creator>{PATIENT_TEXT}</dc:creator></x:xmpmeta>".encode()
    if icc:
        options["icc_profile"] = ICC
    out = io.BytesIO()
    _picture(width, height, colour).save(out, "JPEG", **options)
    return out.getvalue()


def png(
    width: int = 64,
    height: int = 32,
    *,
    gps: bool = False,
    colour: tuple[int, int, int] = (30, 30, 200),
    icc: bool = False,
) -> bytes:
    """A PNG; with ``gps`` it carries an eXIf chunk with GPS and text chunks with a name."""
    options: dict[str, object] = {}
    if gps:
        info = PngImagePlugin.PngInfo()
        info.add_text("Author", PATIENT_TEXT)
        info.add_text("Comment", PATIENT_TEXT, zip=True)
        info.add_itxt("XML:com.adobe.xmp", f"<x>{PATIENT_TEXT}</x>")
        options["pnginfo"] = info
        options["exif"] = exif_with_gps()
    if icc:
        options["icc_profile"] = ICC
    out = io.BytesIO()
    _picture(width, height, colour).save(out, "PNG", **options)
    return out.getvalue()


def noise_png(width: int, height: int, seed: int = 7) -> bytes:
    """A PNG of random pixels: noise does not compress, so it is about 3 bytes a pixel."""
    pixels = random.Random(seed).randbytes(width * height * 3)  # noqa: S311  # test pixels, no secret
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), pixels).save(out, "PNG")
    return out.getvalue()


def gif() -> bytes:
    """A small GIF (a type photos refuse)."""
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 200, 0)).save(out, "GIF")
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` pixels but holds one tiny compressed row:
    the shape of a decompression bomb, without the memory."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


def opened(data: bytes) -> Image.Image:
    """The image of ``data`` (its pixels loaded)."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image
