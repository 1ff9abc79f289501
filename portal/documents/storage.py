"""Storing files sent by users: type checked by content, random names, SHA-256, size limit.

Used by customer uploads, supplier documents and ticket attachments. Files live under
app.config["UPLOAD_DIR"], which is never a static folder; they are served only by views that
check access first.
"""

import hashlib
import io
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import abort, current_app, send_file
from flask_babel import lazy_gettext as _l
from PIL import Image, UnidentifiedImageError

# Content types we accept, recognised by their first bytes, never by the file name.
PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
TIFF = "image/tiff"
SIGNATURES = [
    (b"%PDF-", PDF),
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
]
EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png", TIFF: ".tif"}
PILLOW_FORMATS = {JPEG: "JPEG", PNG: "PNG", TIFF: "TIFF"}
# Allow the usual decompression-bomb guard but for big A3 scans at 600 dpi.
Image.MAX_IMAGE_PIXELS = 120_000_000


class FileRefused(ValueError):
    """The file cannot be accepted; the message tells the user why."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class StoredFile:
    stored_name: str
    original_name: str
    content_type: str
    size: int
    sha256: str


def upload_root() -> Path:
    root = Path(current_app.config["UPLOAD_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    return root


def clean_original_name(name: str | None) -> str:
    """The name as the user gave it, for display only; path-like names are refused."""
    name = (name or "").strip()
    if not name:
        raise FileRefused(_l("The file has no name."))
    if "/" in name or "\\" in name or name.startswith(".") or ".." in name or "\x00" in name:
        raise FileRefused(_l("The file name must not contain a path; rename the file."))
    if len(name) > 200:
        raise FileRefused(_l("The file name is too long (200 characters at most)."))
    return name


def detect_type(data: bytes) -> str:
    """The content type by magic bytes, double-checked by parsing; refuse anything else."""
    content_type = next((kind for magic, kind in SIGNATURES if data.startswith(magic)), None)
    if content_type is None:
        raise FileRefused(_l("Only PDF, JPEG, PNG or TIFF files are accepted."))
    if content_type == PDF:
        # A real PDF ends with an end-of-file marker; a renamed file with a forged header does not.
        if b"%%EOF" not in data[-2048:]:
            raise FileRefused(_l("The file is not a valid PDF document."))
        return content_type
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != PILLOW_FORMATS[content_type]:
                raise FileRefused(_l("The image is damaged or not what its content claims."))
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise FileRefused(_l("The image is damaged or not what its content claims.")) from error
    return content_type


def store_upload(file_storage) -> StoredFile:
    """Check and save an uploaded werkzeug FileStorage; return what the database keeps."""
    if file_storage is None or not getattr(file_storage, "filename", None):
        raise FileRefused(_l("Choose a file."))
    original_name = clean_original_name(file_storage.filename)
    limit = int(float(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024)
    data = file_storage.stream.read(limit + 1)
    if not data:
        raise FileRefused(_l("The file is empty."))
    if len(data) > limit:
        raise FileRefused(
            _l("The file is larger than %(limit)s MB.", limit=current_app.config["MAX_UPLOAD_MB"])
        )
    content_type = detect_type(data)
    stored_name = secrets.token_hex(20) + EXTENSIONS[content_type]
    path = upload_root() / stored_name
    # O_EXCL: never overwrite; a random 160-bit name makes a clash practically impossible.
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640), "wb") as handle:
        handle.write(data)
    return StoredFile(
        stored_name=stored_name,
        original_name=original_name,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def discard(stored_name: str) -> None:
    """Remove a file saved during a request that then failed (nothing must be left behind)."""
    (upload_root() / stored_name).unlink(missing_ok=True)


def send_stored(stored_name: str, original_name: str, content_type: str):
    """Send a stored file as an attachment that the browser must not sniff or render."""
    path = upload_root() / stored_name
    if not path.is_file():
        abort(404)
    response = send_file(
        path, mimetype=content_type, as_attachment=True, download_name=original_name
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
