"""Small real files for upload tests, made on the fly."""

import io

from PIL import Image


def make_pdf(catalog: bytes = b"", page: bytes = b"", extra: tuple[bytes, ...] = ()) -> bytes:
    """A one-page PDF with a correct cross-reference table; `catalog` and `page` add entries
    to those dictionaries, `extra` adds objects 4, 5, ... (what a real generator writes)."""
    objects = [
        b"<</Type/Catalog/Pages 2 0 R" + catalog + b">>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]" + page + b">>",
        *extra,
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


# A minimal but well-formed one-page PDF.
PDF_BYTES = make_pdf()
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
