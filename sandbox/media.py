"""Sample media behind the links of simulated inbound messages.

Inbound media callbacks carry a ``link`` (and its ``sha256``) the portal may
download, as Aldeamo's ``https://docs.aldeamo.com/getFiles/…`` links. The
sandbox serves small sample files at ``/sandbox/aldeamo/getFiles/<id>.<ext>``
so those links work in the demo; the bytes depend only on the extension, so
the sha256 in the payload is the real digest of what the link returns.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse

from .conf import setting

# A 480×320 photo-like picture (made once with Chromium from a gradient and the words "waportal sandbox"), so an
# inbound image in the demo shows as a picture, not as a one-pixel dot.
_PHOTO_JPG = (Path(__file__).parent / "samples" / "photo.jpg").read_bytes()


def _png(width: int = 8, height: int = 8, rgb: tuple[int, int, int] = (37, 211, 102)) -> bytes:
    """A small solid-colour PNG (WhatsApp green), built without an imaging library."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    row = b"\x00" + bytes(rgb) * width
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def _pdf() -> bytes:
    """A one-page PDF saying where it comes from."""
    stream = b"BT /F1 18 Tf 72 720 Td (waportal sandbox - documento de prueba) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


SAMPLES: dict[str, tuple[str, bytes]] = {
    # extension: (content type, bytes). Audio/video are tagged stubs: enough to
    # download, store and hash; nobody needs to play them in a demo.
    "jpg": ("image/jpeg", _PHOTO_JPG),
    "png": ("image/png", _png(480, 320)),
    "pdf": ("application/pdf", _pdf()),
    "mp4": ("video/mp4", b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64),
    "mp3": ("audio/mpeg", b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 32),
    "ogg": ("audio/ogg", b"OggS\x00\x02" + b"\x00" * 20 + b"OpusHead" + b"\x00" * 32),
    "webp": (
        "image/webp",
        b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00",
    ),
}


@cache
def media_sha256(extension: str) -> str:
    """The hex sha256 of the sample served for ``extension``."""
    return hashlib.sha256(SAMPLES[extension][1]).hexdigest()


def media_base_url(webhook_url: str = "") -> str:
    """Where sample media is served.

    ``SANDBOX_MEDIA_BASE_URL``, else the portal's public URL, else the origin
    of the webhook URL the sandbox posts to (``webhook_url``: the demo's own
    host and port, whatever port it serves), else ``127.0.0.1:8000``; then the
    sandbox path.
    """
    configured = setting("SANDBOX_MEDIA_BASE_URL")
    if configured:
        return configured.rstrip("/") + "/"
    public = settings.PUBLIC_BASE_URL
    if not public and webhook_url:
        parts = urlsplit(webhook_url)
        if parts.scheme in ("http", "https") and parts.netloc:
            public = f"{parts.scheme}://{parts.netloc}"
    public = (public or "http://127.0.0.1:8000").rstrip("/")
    return f"{public}/sandbox/aldeamo/getFiles/"


def media_link(media_id: str, extension: str, *, webhook_url: str = "") -> str:
    """The download link of an inbound media file, in Aldeamo's ``getFiles/<id><name>.<ext>`` style."""
    return f"{media_base_url(webhook_url)}{media_id}whatsappmedia.{extension}"


def media_file(request: HttpRequest, filename: str) -> HttpResponse:
    """Serve the sample for the file's extension (GET ``getFiles/<anything>.<ext>``)."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in SAMPLES:
        raise Http404("No such file")
    content_type, data = SAMPLES[extension]
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
