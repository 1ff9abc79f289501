"""Meter photos sent with a reading: checked by their bytes, stored under a random name."""

import uuid
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.documents import storage
from portal.errors import UserError
from portal.files.sniff import sniff
from portal.metering.models import Reading

# Meter photos pass the one upload check (portal/documents/storage.py), images only.
PHOTO_TYPES = {storage.JPEG: "jpg", storage.PNG: "png"}
MAX_PHOTO_BYTES = 10 * 1024 * 1024


def check_photo(upload) -> tuple[bytes, str] | None:
    """Return (content, extension) of a JPEG/PNG photo judged by its bytes, or None if empty."""
    if upload is None or not getattr(upload, "filename", ""):
        return None
    content = upload.read(MAX_PHOTO_BYTES + 1)
    if not content:
        return None
    if len(content) > MAX_PHOTO_BYTES:
        raise UserError(_l("The photo is larger than 10 MB."))
    try:
        content_type = storage.detect_type(content, allowed=PHOTO_TYPES)
    except storage.FileRefused as refusal:
        message = refusal.message
        if sniff(content) not in PHOTO_TYPES:
            message = _l("The photo must be a JPEG or PNG image.")
        raise UserError(message) from refusal
    return content, PHOTO_TYPES[content_type]


def photo_directory() -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "metering"


def photo_path(reading: Reading) -> Path | None:
    if not reading.photo_name:
        return None
    return photo_directory() / reading.photo_name


def store_photo(content: bytes, extension: str) -> str:
    directory = photo_directory()
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{uuid.uuid4().hex}.{extension}"
    (directory / name).write_bytes(content)
    return name


def forget_photos(names) -> None:
    """Remove stored photos whose readings were not saved after all."""
    for name in names:
        (photo_directory() / name).unlink(missing_ok=True)
