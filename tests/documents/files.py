"""Small real files for upload tests, made on the fly."""

import io

from PIL import Image

# A minimal but well-formed one-page PDF.
PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
EXECUTABLE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200
# An executable with a forged PDF header: it starts like a PDF but is not one.
FORGED_PDF_BYTES = b"%PDF-1.4\n" + b"\x7fELF\x02\x01\x01" + b"\x00" * 300


def image_bytes(fmt="PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


def file(data: bytes, name: str):
    return (io.BytesIO(data), name)


def download(client, url):
    """GET a file download and close it (send_file keeps the file open until closed)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response
