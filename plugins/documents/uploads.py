"""Upload checks for ID documents (OWASP ASVS V5, File Upload Cheat Sheet).

Only PDF, JPEG and PNG are accepted, recognised by their magic bytes and matched to the extension. Images
are parsed far enough to read their dimensions (pixel-flood cap); PDFs are scanned, including their
compressed streams, for active content. Archives and polyglots are refused. Stored names are random, so the
uploaded filename is only ever used for display (``safe_display_name``).
"""

from __future__ import annotations

import re
import struct
import unicodedata
import zlib
from dataclasses import dataclass, field

from hub.errors import DeskbridgeError


class UploadRejected(DeskbridgeError):
    """An upload that must not be stored; ``status`` is the 4xx to answer with."""

    def __init__(self, reason: str, status: int = 422):
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int = 10 * 1024 * 1024
    max_width: int = 12_000
    max_height: int = 12_000
    max_pixels: int = 50_000_000
    # Total bytes a PDF's compressed streams may inflate to while being scanned (decompression bombs).
    max_pdf_inflated: int = 64 * 1024 * 1024
    allowed: frozenset[str] = field(default_factory=lambda: frozenset({"pdf", "jpeg", "png"}))


@dataclass(frozen=True)
class Accepted:
    kind: str  # "pdf" | "jpeg" | "png"
    mime: str
    ext: str  # canonical extension, with the dot
    width: int | None = None
    height: int | None = None


_KINDS = {
    "pdf": ("application/pdf", ".pdf", frozenset({".pdf"})),
    "jpeg": ("image/jpeg", ".jpg", frozenset({".jpg", ".jpeg", ".jpe", ".jfif"})),
    "png": ("image/png", ".png", frozenset({".png"})),
}
_ARCHIVES = (
    (b"PK\x03\x04", "zip"), (b"PK\x05\x06", "zip"), (b"PK\x07\x08", "zip"), (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"), (b"7z\xbc\xaf\x27\x1c", "7z"), (b"Rar!\x1a\x07", "rar"),
    (b"\x28\xb5\x2f\xfd", "zstd"), (b"MSCF", "cab"),
)
_EMBEDDED_ZIP = re.compile(rb"PK\x03\x04|PK\x05\x06")
_MARKUP = re.compile(
    rb"(?i)<\s*(?:script|html|body|iframe|svg|object|embed|form|meta|link|style)\b|<\?php|<%[=@\s]"
    rb"|javascript:|vbscript:|<!doctype\s+html"
)
# PDF names that make a document act: scripts, launching programs, embedded files, rich media, auto actions.
_PDF_ACTIVE = frozenset(
    {b"JavaScript", b"JS", b"Launch", b"EmbeddedFile", b"EmbeddedFiles", b"RichMedia", b"AA", b"XFA",
     b"SubmitForm", b"ImportData", b"GoToE"}
)
_PDF_NAME = re.compile(rb"/([^\s/<>\[\]()%{}]+)")
_PDF_HEX = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_STREAM = re.compile(rb"stream\r?\n")


def _kind(data: bytes) -> str | None:
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    return None


def _archive(data: bytes) -> str | None:
    for magic, name in _ARCHIVES:
        if data.startswith(magic):
            return name
    if data[257:262] == b"ustar":
        return "tar"
    return None


def extension(filename: str) -> str:
    """The lowercase extension of the last path component (``""`` when there is none)."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return "." + name.rsplit(".", 1)[1].lower() if "." in name.strip(".") else ""


def safe_display_name(filename: str, ext: str = "") -> str:
    """A harmless name to show and offer for download: last path component, no control characters."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in unicodedata.normalize("NFC", name) if unicodedata.category(c)[0] != "C")
    name = name.strip(" .")[:120]
    return name or f"document{ext}"


def validate_upload(filename: str, data: bytes, limits: UploadLimits | None = None) -> Accepted:
    """Accept a PDF/JPEG/PNG or raise ``UploadRejected`` with the reason and a 4xx status."""
    limits = limits or UploadLimits()
    if not data:
        raise UploadRejected("the file is empty", 400)
    if len(data) > limits.max_bytes:
        raise UploadRejected(f"the file is {len(data)} bytes; the limit is {limits.max_bytes}", 413)
    archive = _archive(data)
    if archive:
        raise UploadRejected(f"archives are not accepted ({archive}); send a PDF, JPEG or PNG", 415)
    kind = _kind(data)
    if kind is None or kind not in limits.allowed:
        allowed = ", ".join(sorted(k.upper() for k in limits.allowed))
        raise UploadRejected(f"this file type is not accepted; send one of: {allowed}", 415)
    mime, canonical, exts = _KINDS[kind]
    ext = extension(filename)
    if ext not in exts:
        raise UploadRejected(f"the extension {ext or '(none)'!r} does not match the content ({kind.upper()})", 415)
    if _EMBEDDED_ZIP.search(data):
        raise UploadRejected("the file carries an embedded archive", 422)
    if _MARKUP.search(data):
        raise UploadRejected("the file carries HTML or script content", 422)
    width = height = None
    if kind == "png":
        width, height = _png_size(data)
    elif kind == "jpeg":
        width, height = _jpeg_size(data)
    else:
        _check_pdf(data, limits)
    if width is not None and height is not None:
        if width == 0 or height == 0:
            raise UploadRejected("the image has no pixels", 422)
        if width > limits.max_width or height > limits.max_height or width * height > limits.max_pixels:
            raise UploadRejected(
                f"the image is {width}x{height} pixels; the limit is {limits.max_width}x{limits.max_height} "
                f"and {limits.max_pixels} pixels", 413)
    return Accepted(kind, mime, canonical, width, height)


def _png_size(data: bytes) -> tuple[int, int]:
    """Walk every chunk (lengths and CRCs) to IEND; the size comes from IHDR, which must be first."""
    pos, size, first = 8, None, True
    while True:
        if pos + 12 > len(data):
            raise UploadRejected("the PNG is truncated", 422)
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 12 + length
        if end > len(data):
            raise UploadRejected("the PNG is truncated", 422)
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[end - 4 : end])
        if zlib.crc32(ctype + body) != crc:
            raise UploadRejected(f"the PNG chunk {ctype!r} is corrupt", 422)
        if first:
            if ctype != b"IHDR" or length != 13:
                raise UploadRejected("the PNG does not start with a header chunk", 422)
            size = struct.unpack(">II", body[:8])
            first = False
        pos = end
        if ctype == b"IEND":
            break
    if pos != len(data):
        raise UploadRejected("the PNG has data after its end", 422)
    assert size is not None
    return size


_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_size(data: bytes) -> tuple[int, int]:
    """Walk the marker segments up to the first frame header (SOFn) and read its dimensions."""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise UploadRejected("the JPEG is malformed", 422)
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2:
            raise UploadRejected("the JPEG is malformed", 422)
        if marker in _SOF:
            if pos + 9 > len(data):
                break
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        if marker in (0xDA, 0xD9):
            break
        pos += 2 + length
    raise UploadRejected("the JPEG has no readable frame header", 422)


def _pdf_names(chunk: bytes) -> set[bytes]:
    # Names may hide letters as #xx escapes (/J#61vaScript).
    return {_PDF_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), n) for n in _PDF_NAME.findall(chunk)}


def _check_pdf(data: bytes, limits: UploadLimits) -> None:
    names = _pdf_names(data)
    if b"Encrypt" in names:
        raise UploadRejected("encrypted PDFs are not accepted; send the document without a password", 422)
    budget = limits.max_pdf_inflated
    for found in _PDF_STREAM.finditer(data):
        start = found.end()
        if start >= len(data) or data[start] & 0x0F != 8:  # not a zlib stream header
            continue
        end = data.find(b"endstream", start)
        inflater = zlib.decompressobj()
        try:
            inflated = inflater.decompress(data[start : end if end != -1 else len(data)], budget + 1)
        except zlib.error:
            continue
        budget -= len(inflated)
        if budget < 0 or inflater.unconsumed_tail:
            raise UploadRejected(f"the PDF expands beyond {limits.max_pdf_inflated} bytes", 413)
        names |= _pdf_names(inflated)
        if _MARKUP.search(inflated):
            raise UploadRejected("the PDF carries HTML or script content", 422)
    active = sorted(n.decode("latin-1") for n in names & _PDF_ACTIVE)
    if active:
        raise UploadRejected(f"PDFs with active content are not accepted (/{', /'.join(active)})", 422)
