"""A project photo as a moderator uploads it, made safe to send to every terminal.

Only JPEG and PNG are taken, told by their first bytes (never by a name or a declared
type). The header is read first (paper.image_headers, the same reader the paper
scans use), so a file claiming a huge picture (an "image bomb": a few kilobytes that
decode to gigabytes) is refused before a pixel is decoded. What passes is decoded with
Pillow and written again as a plain baseline JPEG of bounded size, without metadata
(no EXIF location, no comments, no ICC profile): nothing of the uploaded file but its
pixels reaches a terminal or a resident's browser.

Limits (bytes and pixels), with their reasons:
- UPLOAD_BYTES, 8 MB: a phone photo is 2-6 MB; the request limit is set from it.
- UPLOAD_PIXELS, 50 Mpx and UPLOAD_SIDE, 12 000 px: above any phone or camera in use;
  decoding 50 Mpx costs ~150 MB at most (RGB), and a JPEG is decoded already reduced
  (JPEG DCT scaling to at most twice the output size), so far less in practice.
- DECODE_WORK_BYTES, 256 MB: what a progressive JPEG's coefficients or a PNG's alpha
  may cost besides (image_headers' cost model); above it the file is refused.
- JPEG_SCANS, 100: a progressive JPEG has about ten scans, each a pass over the whole
  picture; thousands of them make a small file cost minutes of decoding.
- OUTPUT_SIDE, 1280 px on the long side and OUTPUT_BYTES, 400 KB: sharp on a 1080p
  kiosk screen, and a package of six photos a project stays a few megabytes.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, ImageOps

from paper.image_headers import image_kind, page_headers
from server.texts import Explained, Text, _l

UPLOAD_BYTES = 8 * 1024 * 1024
UPLOAD_PIXELS = 50_000_000
UPLOAD_SIDE = 12_000
DECODE_WORK_BYTES = 256 * 1024 * 1024
JPEG_SCANS = 100
OUTPUT_SIDE = 1280
OUTPUT_BYTES = 400 * 1024
_QUALITIES = (82, 72, 60)  # tried in turn until the JPEG fits OUTPUT_BYTES
_SIDES = (OUTPUT_SIDE, 960, 640)


class PhotoRefused(Explained, ValueError):
    """The file is not a photo this system takes; `code` names the rule it broke and
    the two messages say so to a moderator."""

    def __init__(self, code: str, text: Text) -> None:
        super().__init__(text)
        self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.message_en}"


@dataclass(frozen=True, slots=True)
class EncodedPhoto:
    data: bytes  # a baseline JPEG, no metadata
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _unreadable() -> PhotoRefused:
    return PhotoRefused(
        "photo.unreadable",
        _l("Файл пошкоджений або не є фотографією JPEG чи PNG."),
    )


def encode_photo(data: bytes) -> EncodedPhoto:
    """`data` (an uploaded file) as a bounded JPEG, or PhotoRefused saying why not."""
    if len(data) > UPLOAD_BYTES:
        raise PhotoRefused(
            "photo.too_large",
            _l("Файл більший за {mb} МБ.", mb=UPLOAD_BYTES // 2**20),
        )
    kind = image_kind(data)
    if kind not in ("jpeg", "png"):
        raise PhotoRefused(
            "photo.format",
            _l("Приймаються лише фотографії JPEG або PNG."),
        )
    try:
        (header,) = page_headers(kind, data, 1, transparent=True)
    except ValueError:
        raise _unreadable() from None
    if (
        header.width > UPLOAD_SIDE
        or header.height > UPLOAD_SIDE
        or header.width * header.height > UPLOAD_PIXELS
        or header.work_bytes > DECODE_WORK_BYTES
    ):
        raise PhotoRefused(
            "photo.too_many_pixels",
            _l(
                "Зображення завелике: {width}×{height} пікселів (не більше {megapixels} мегапікселів).",
                width=header.width,
                height=header.height,
                megapixels=UPLOAD_PIXELS // 1_000_000,
            ),
        )
    if header.scans > JPEG_SCANS:
        raise _unreadable()
    try:
        picture = _decoded(data, kind, header.width, header.height)
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
        raise _unreadable() from None
    return _bounded_jpeg(picture)


def _decoded(data: bytes, kind: str, width: int, height: int) -> Image.Image:
    picture: Image.Image = Image.open(io.BytesIO(data), formats=["JPEG" if kind == "jpeg" else "PNG"])
    if picture.size != (width, height):  # Pillow read the header otherwise: ambiguous file
        raise ValueError(f"header says {width}x{height}, decoder {picture.size}")
    if getattr(picture, "n_frames", 1) != 1:
        raise ValueError("more than one frame")
    if kind == "jpeg":
        # Decode already reduced (DCT scaling): a 40 Mpx photo costs a quarter or less.
        picture.draft("RGB", (OUTPUT_SIDE * 2, OUTPUT_SIDE * 2))
    picture.load()  # a truncated file raises here (Pillow does not fill in by default)
    picture = ImageOps.exif_transpose(picture)  # phones store "turn me" in EXIF
    if picture.mode in ("RGBA", "LA", "PA") or (picture.mode == "P" and "transparency" in picture.info):
        rgba = picture.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))  # transparency shown on white
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return picture.convert("RGB")


def _bounded_jpeg(picture: Image.Image) -> EncodedPhoto:
    for side in _SIDES:
        scaled = picture.copy()
        scaled.thumbnail((side, side), Image.Resampling.LANCZOS)
        for quality in _QUALITIES:
            out = io.BytesIO()
            scaled.save(out, "JPEG", quality=quality, optimize=True, progressive=False)
            if out.tell() <= OUTPUT_BYTES:
                return EncodedPhoto(out.getvalue(), scaled.width, scaled.height)
    raise PhotoRefused(  # only noise-like pictures get here
        "photo.not_compressible",
        _l("Фотографію не вдалося стиснути до допустимого розміру."),
    )
