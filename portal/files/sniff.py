"""The one judge of what a file is by its first bytes, never by its name or declared type.

Every upload asks `sniff(data)`: scans and documents (portal/documents/storage.py, which then
parses the file to be sure), item certificates, meter photos and uploaded workbooks
(portal/files/tables.py). It answers a content type or None; callers refuse what they do not
accept with their own message.
"""

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
TIFF = "image/tiff"
ZIP = "application/zip"  # an XLSX workbook is a ZIP archive; tables.py checks it is one

SIGNATURES = (
    (b"%PDF-", PDF),
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
    (b"PK\x03\x04", ZIP),
)


def sniff(data: bytes) -> str | None:
    """The content type the file's first bytes announce, or None for anything else."""
    head = bytes(data[:8])
    return next((kind for magic, kind in SIGNATURES if head.startswith(magic)), None)
