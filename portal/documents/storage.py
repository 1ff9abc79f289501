"""Storing files sent by users: type checked by content, random names, SHA-256, size limit.

The one check for every uploaded file (customer scans, supplier documents, ticket
attachments, item certificates, meter photos): `detect_type` judges the content (magic bytes,
then a real parse: Pillow for images, pypdf for PDF, which must be structurally a PDF with
no active content), and `clean_original_name` makes the name safe to show and to save
(no control or bidi characters, an extension that matches the content). Files live under
the file store (portal/files/store.py: app.config["UPLOAD_DIR"] on disk, never a static
folder, or an S3 bucket); they are served only by views that check access first.
"""

import io
import logging
import re
import unicodedata
import warnings
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from portal.errors import UserError
from portal.files import store
from portal.files.sniff import JPEG, PDF, PNG, TIFF, sniff

log = logging.getLogger(__name__)

# Content types we accept, recognised by their first bytes (portal/files/sniff.py), never by
# the file name.
ACCEPTED = {PDF, JPEG, PNG, TIFF}
EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png", TIFF: ".tif"}
# Extensions a user's file name may keep for each content type (others become the first).
NAME_EXTENSIONS = {
    PDF: {".pdf"},
    JPEG: {".jpg", ".jpeg", ".jpe"},
    PNG: {".png"},
    TIFF: {".tif", ".tiff"},
}
# Characters never kept in a file name: controls (Cc), format characters such as the
# right-to-left override (U+202E) that makes "invoice<U+202E>fdp.exe" look like
# "invoiceexe.pdf" (Cf), line and paragraph separators, surrogates, private-use and unassigned
# code points.
INVISIBLE_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}

# A PDF is refused when it can act on its own: scripts, actions run on opening or on events,
# launching programs, files carried inside, XFA forms, rich media.
ACTIVE_PDF_KEYS = {
    "/JS",
    "/JavaScript",
    "/AA",
    "/Launch",
    "/EmbeddedFile",
    "/EmbeddedFiles",
    "/EF",
    "/XFA",
    "/RichMedia",
}
ACTIVE_PDF_ACTIONS = {
    "/JavaScript",
    "/Launch",
    "/SubmitForm",
    "/ImportData",
    "/GoToE",
    "/GoToR",
    "/Rendition",
    "/Sound",
    "/Movie",
}
# More objects than a scan or a generated document has (a 300-page statement has ~4,000):
# refused rather than parsed, since parsing costs time per object.
MAX_PDF_OBJECTS = 20_000
# HTML or script markup outside the PDF's streams: a page in disguise, not a document.
HTML_IN_PDF = re.compile(
    rb"<(?:!doctype|html|head|body|script|iframe|svg|object|embed|meta|form|img)\b", re.IGNORECASE
)
STREAM_DATA = re.compile(rb"stream\r?\n.*?endstream", re.DOTALL)
PILLOW_FORMATS = {JPEG: "JPEG", PNG: "PNG", TIFF: "TIFF"}
# Allow the usual decompression-bomb guard but for big A3 scans at 600 dpi.
Image.MAX_IMAGE_PIXELS = 120_000_000


class FileRefused(UserError):
    """The file cannot be accepted; the message tells the user why (callers catch it around
    an upload)."""


@dataclass(frozen=True)
class StoredFile:
    stored_name: str
    original_name: str
    content_type: str
    size: int
    sha256: str


def clean_original_name(name: str | None, content_type: str | None = None) -> str:
    """The name as the user gave it, made safe to show and save; path-like names are refused.

    Control, format (bidi) and other invisible characters are dropped; with `content_type`
    the extension is made to match the content ("scan.exe" holding a PDF becomes "scan.pdf").
    """
    name = unicodedata.normalize("NFC", name or "")
    name = "".join(ch for ch in name if unicodedata.category(ch) not in INVISIBLE_CATEGORIES)
    name = " ".join(name.split())
    if not name:
        raise FileRefused(_l("The file has no name."))
    if "/" in name or "\\" in name or name.startswith(".") or ".." in name:
        raise FileRefused(_l("The file name must not contain a path; rename the file."))
    if len(name) > 200:
        raise FileRefused(_l("The file name is too long (200 characters at most)."))
    if content_type is not None:
        name = _with_extension(name, content_type)
    return name


def _with_extension(name: str, content_type: str) -> str:
    stem, dot, suffix = name.rpartition(".")
    if dot and "." + suffix.lower() in NAME_EXTENSIONS[content_type]:
        return name
    if dot and stem and len(suffix) <= 5 and suffix.isascii() and suffix.isalnum():
        name = stem.rstrip()  # a wrong extension (".exe", ".html") is replaced
    extension = EXTENSIONS[content_type]
    return name[: 200 - len(extension)] + extension


def detect_type(data: bytes, allowed=None) -> str:
    """The content type by magic bytes, double-checked by parsing; refuse anything else."""
    content_type = sniff(data)
    if content_type not in ACCEPTED or (allowed is not None and content_type not in allowed):
        raise FileRefused(_l("Only PDF, JPEG, PNG or TIFF files are accepted."))
    if content_type == PDF:
        check_pdf(data)
        return content_type
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != PILLOW_FORMATS[content_type]:
                raise FileRefused(_l("The image is damaged or not what its content claims."))
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise FileRefused(_l("The image is damaged or not what its content claims.")) from error
    return content_type


def check_pdf(data: bytes) -> None:
    """Refuse what is not structurally a PDF, and a PDF with active content."""
    tail = data[-2048:]
    # A real PDF ends with the cross-reference pointer and an end-of-file marker; a renamed
    # file with a forged header does not.
    if not re.match(rb"%PDF-[12]\.\d", data) or b"%%EOF" not in tail or b"startxref" not in tail:
        raise FileRefused(_l("The file is not a valid PDF document."))
    if HTML_IN_PDF.search(STREAM_DATA.sub(b"", data)):
        raise FileRefused(_l("The file is not a valid PDF document."))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pypdf warns about every repaired detail
            reader = PdfReader(io.BytesIO(data), strict=False)
            objects = sum(len(section) for section in reader.xref.values())
            if objects + len(reader.xref_objStm) > MAX_PDF_OBJECTS:
                raise FileRefused(
                    _l(
                        "The PDF has more than %(max)s objects, too many to be checked.",
                        max=MAX_PDF_OBJECTS,
                    )
                )
            if reader.is_encrypted and not reader.decrypt(""):
                raise FileRefused(
                    _l("The PDF is protected by a password; save it without the password.")
                )
            if len(reader.pages) < 1:
                raise FileRefused(_l("The file is not a valid PDF document."))
            active = _active_pdf_content(reader)
    except FileRefused:
        raise
    except Exception as error:  # pypdf's errors on hostile input are many and varied
        raise FileRefused(_l("The file is not a valid PDF document.")) from error
    if active:
        raise FileRefused(
            _l(
                "The PDF contains active content (%(what)s): scripts, automatic actions and "
                "embedded files are not accepted. Print it to PDF or scan it again.",
                what=active,
            )
        )


def _active_pdf_content(reader) -> str | None:
    """The first active element reachable from the document's trailer, or None."""
    pending, seen, walked = [reader.trailer], set(), 0
    while pending:
        item = pending.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            item = item.get_object()
        walked += 1
        if walked > MAX_PDF_OBJECTS:
            return "/Objects"
        if isinstance(item, DictionaryObject):
            for name in item:
                if name in ACTIVE_PDF_KEYS:
                    return str(name)
            action = item.get("/S")
            if action in ACTIVE_PDF_ACTIONS:
                return str(action)
            if item.get("/Type") == "/EmbeddedFile":
                return "/EmbeddedFile"
            opening = item.get("/OpenAction")
            if opening is not None:
                opening = opening.get_object()
                # Opening at a page is harmless; any other action on opening is not.
                if isinstance(opening, DictionaryObject) and opening.get("/S") != "/GoTo":
                    return "/OpenAction"
            pending.extend(item.values())
        elif isinstance(item, ArrayObject):
            pending.extend(item)
    return None


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
    original_name = clean_original_name(original_name, content_type)
    # The object first, the row after (by the caller): a request that dies in between leaves
    # an object without a row, which `flask storage-orphans` collects.
    stored_name = store.new_key(EXTENSIONS[content_type])
    saved = put_file(stored_name, data, content_type)
    return StoredFile(
        stored_name=stored_name,
        original_name=original_name,
        content_type=content_type,
        size=saved.size,
        sha256=saved.sha256,
    )


def put_file(key: str, data: bytes, content_type: str | None = None) -> store.Stored:
    """Save checked content under `key` in the file store; an unreachable store refuses it."""
    try:
        return store.files().put(key, data, content_type)
    except store.StoreUnavailable as error:
        raise FileRefused(error.message) from error


def discard(stored_name: str) -> None:
    """Remove a file saved during a request that then failed (nothing must be left behind).

    When the store cannot be reached now, the object stays until `flask storage-orphans`.
    """
    try:
        store.files().delete(stored_name)
    except store.StoreUnavailable:
        log.warning("file store: %s left for the orphan cleanup", stored_name)


def send_stored(stored_name: str, original_name: str, content_type: str):
    """Send a stored file as an attachment that the browser must not sniff or render.

    The caller has checked access; a missing file answers 404 (and is logged), an unreachable
    store 503 (portal/files/store.py).
    """
    return store.send(
        store.files(), stored_name, download_name=original_name, content_type=content_type
    )
