"""Builders for small real files (PNG, JPEG, PDF, archives) used by the document tests."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest


def _chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def make_png(width: int = 4, height: int = 3, trailer: bytes = b"") -> bytes:
    """A valid RGB PNG header; pixel data is only real for small images (big ones test the header cap)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x7f" * (3 * width) for _ in range(height)) if width * height <= 10_000 else b""
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(rows))
            + _chunk(b"IEND", b"") + trailer)


def make_jpeg(width: int = 4, height: int = 3, extra: bytes = b"") -> bytes:
    """SOI, JFIF APP0, an optional COM segment, SOF0 with the size, a tiny scan, EOI."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    com = b"\xff\xfe" + struct.pack(">H", 2 + len(extra)) + extra if extra else b""
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    sos = b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00\x00\x3f\x00" + b"\x12\x34\x56"
    return b"\xff\xd8" + app0 + com + sof + sos + b"\xff\xd9"


def make_pdf(
    catalog_extra: bytes = b"", stream: bytes = b"BT /F1 12 Tf (Hello) Tj ET", compress: bool = False
) -> bytes:
    """A one-page PDF; ``catalog_extra`` goes into the catalog dictionary, ``stream`` is the page content."""
    body = zlib.compress(stream) if compress else stream
    filt = b" /Filter /FlateDecode" if compress else b""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length " + str(len(body)).encode() + filt + b" >>\nstream\n" + body + b"\nendstream",
    ]
    out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def make_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def files():
    class Files:
        png = staticmethod(make_png)
        jpeg = staticmethod(make_jpeg)
        pdf = staticmethod(make_pdf)
        zip = staticmethod(make_zip)

    return Files
