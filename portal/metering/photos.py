"""Meter photos sent with a reading: checked by their bytes, stored under a random name."""

import contextlib
import uuid
from pathlib import Path

from flask_babel import lazy_gettext as _l

from portal.documents import storage
from portal.errors import UserError
from portal.files import store as file_store
from portal.files.sniff import sniff

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


def photo_key(photo_name: str | None) -> str | None:
    """The file store key of a reading's photo (`Reading.photo_name`)."""
    return f"metering/{Path(photo_name).name}" if photo_name else None


def store_photo(content: bytes, extension: str) -> str:
    name = f"{uuid.uuid4().hex}.{extension}"
    try:  # the object first, the row after; an unreachable store refuses the submission
        mimetype = "image/png" if extension == "png" else "image/jpeg"
        file_store.files().put(photo_key(name), content, mimetype)
    except file_store.StoreUnavailable as error:
        raise UserError(error.message) from error
    return name


def forget_photos(names) -> None:
    """Remove stored photos whose readings were not saved after all."""
    for name in names:
        with contextlib.suppress(file_store.StoreUnavailable):
            file_store.files().delete(photo_key(name))
