"""Upload validation: every refusal named in issue 7 / reliability S5, each with a 4xx."""

from __future__ import annotations

import gzip
import io
import tarfile

import pytest

from plugins.documents.uploads import (
    UploadLimits,
    UploadRejected,
    extension,
    safe_display_name,
    validate_upload,
)

pytestmark = pytest.mark.unit


def rejected(filename: str, data: bytes, limits: UploadLimits | None = None) -> UploadRejected:
    with pytest.raises(UploadRejected) as caught:
        validate_upload(filename, data, limits)
    assert 400 <= caught.value.status < 500
    return caught.value


def test_accepts_png_jpeg_pdf(files):
    png = validate_upload("id.PNG", files.png(640, 480))
    assert (png.kind, png.mime, png.ext, png.width, png.height) == ("png", "image/png", ".png", 640, 480)
    jpeg = validate_upload("scan.jpeg", files.jpeg(1200, 800))
    assert (jpeg.kind, jpeg.ext, jpeg.width, jpeg.height) == ("jpeg", ".jpg", 1200, 800)
    pdf = validate_upload("statement.pdf", files.pdf(compress=True))
    assert (pdf.kind, pdf.mime) == ("pdf", "application/pdf")


def test_empty_file():
    assert rejected("a.pdf", b"").status == 400


def test_size_limit_is_exact(files):
    data = files.pdf()
    limits = UploadLimits(max_bytes=len(data))
    assert validate_upload("a.pdf", data, limits).kind == "pdf"
    padded = data + b"\n"
    assert rejected("a.pdf", padded, UploadLimits(max_bytes=len(data))).status == 413


@pytest.mark.parametrize(
    "name,data",
    [
        ("a.pdf", b"MZ\x90\x00" + b"\x00" * 100),
        ("a.jpg", b"<html><body>hi</body></html>"),
        ("a.png", b"GIF89a" + b"\x00" * 50),
        ("a.pdf", b"\x7fELF" + b"\x00" * 60),
        ("a.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
    ],
    ids=["exe", "html", "gif", "elf", "svg"],
)
def test_unknown_or_disallowed_types(name, data):
    assert rejected(name, data).status == 415


@pytest.mark.parametrize("name", ["id.pdf", "id.jpg", "id", "id.png.exe", "id.html"])
def test_extension_must_match_content(files, name):
    error = rejected(name, files.png())
    assert error.status == 415
    assert "does not match" in error.reason


def test_allow_list_is_configurable(files):
    assert rejected("a.pdf", files.pdf(), UploadLimits(allowed=frozenset({"png"}))).status == 415


def test_jpeg_with_html_polyglot(files):
    assert "HTML or script" in rejected("x.jpg", files.jpeg(extra=b"<script>alert(1)</script>")).reason


def test_png_with_trailing_html_and_trailing_bytes(files):
    assert rejected("x.png", files.png(trailer=b"<?php system($_GET['c']); ?>")).status == 422
    assert "after its end" in rejected("x.png", files.png(trailer=b"\x00\x01")).reason


@pytest.mark.parametrize("kind", ["pdf", "jpeg"])
def test_zip_appended_to_pdf_or_jpeg(files, kind):
    data = files.pdf() if kind == "pdf" else files.jpeg()
    polyglot = data + files.zip({"payload.html": b"x" * 100})
    assert "embedded archive" in rejected(f"x.{'pdf' if kind == 'pdf' else 'jpg'}", polyglot).reason


@pytest.mark.parametrize(
    "catalog",
    [
        b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>",
        b"/Names << /JavaScript 5 0 R >>",
        b"/OpenAction << /S /Launch /F (cmd.exe) >>",
        b"/Names << /EmbeddedFiles 6 0 R >>",
        b"/AA << /O 7 0 R >>",
        b"/RichMedia 8 0 R",
        b"/OpenAction << /S /J#61vaScript /J#53 (x) >>",
    ],
)
def test_pdf_active_content(files, catalog):
    error = rejected("doc.pdf", files.pdf(catalog_extra=catalog))
    assert error.status == 422
    assert "active content" in error.reason


def test_pdf_javascript_hidden_in_compressed_stream(files):
    hidden = b"<< /Type /Action /S /JavaScript /JS (this.exportDataObject()) >>"
    assert "active content" in rejected("doc.pdf", files.pdf(stream=hidden, compress=True)).reason


def test_pdf_open_action_to_a_page_is_fine(files):
    assert validate_upload("doc.pdf", files.pdf(catalog_extra=b"/OpenAction [3 0 R /Fit]")).kind == "pdf"


def test_pdf_inflation_bomb(files):
    bomb = files.pdf(stream=b"\x00" * (8 * 1024 * 1024), compress=True)
    assert len(bomb) < 64 * 1024
    assert rejected("doc.pdf", bomb, UploadLimits(max_pdf_inflated=1024 * 1024)).status == 413


def test_encrypted_pdf(files):
    assert "encrypted" in rejected("doc.pdf", files.pdf(catalog_extra=b"/Encrypt 9 0 R")).reason


@pytest.mark.parametrize("width,height", [(20_000, 20_000), (12_001, 10), (8_000, 8_000)])
def test_pixel_flood_png(files, width, height):
    assert rejected("big.png", files.png(width, height)).status == 413


def test_pixel_flood_jpeg(files):
    assert rejected("big.jpg", files.jpeg(30_000, 30_000)).status == 413


def test_zero_size_image(files):
    assert rejected("z.png", files.png(0, 10)).status == 422


def test_truncated_and_corrupt_png(files):
    data = files.png()
    assert "truncated" in rejected("t.png", data[:30]).reason
    corrupt = bytearray(data)
    corrupt[20] ^= 0x01  # inside IHDR: CRC no longer matches
    assert "corrupt" in rejected("c.png", bytes(corrupt)).reason


def test_jpeg_without_frame_header():
    assert rejected("x.jpg", b"\xff\xd8\xff\xe0\x00\x04ab\xff\xd9").status == 422


def _tar() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("a.txt")
        info.size = 1
        archive.addfile(info, io.BytesIO(b"a"))
    return buffer.getvalue()


@pytest.mark.parametrize("name", ["bomb.zip", "bomb.pdf", "bomb.png"])
def test_zip_bomb_refused_as_archive(files, name):
    bomb = files.zip({f"f{i}.bin": b"\x00" * (4 * 1024 * 1024) for i in range(8)})
    assert len(bomb) < 200_000, "32 MiB compressed to a small file"
    error = rejected(name, bomb)
    assert error.status == 415
    assert "archives" in error.reason


@pytest.mark.parametrize("data", [gzip.compress(b"x" * 1000, mtime=0), _tar(), b"Rar!\x1a\x07\x00" + b"\x00" * 20,
                                  b"7z\xbc\xaf\x27\x1c" + b"\x00" * 20, b"BZh91AY&SY"],
                         ids=["gzip", "tar", "rar", "7z", "bzip2"])
def test_other_archives(data):
    assert rejected("a.pdf", data).status == 415


def test_extension_and_display_name_ignore_paths():
    assert extension("../../etc/x.PDF") == ".pdf"
    assert extension("..\\..\\x.jpeg") == ".jpeg"
    assert extension(".png") == ""
    assert safe_display_name("../../etc/passport.pdf") == "passport.pdf"
    assert safe_display_name("C:\\Users\\a\\id\x00\r\n.png") == "id.png"
    assert safe_display_name("../..", ".pdf") == "document.pdf"
