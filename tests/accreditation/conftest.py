import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def pdf_bytes(*objects: bytes, trailer: bytes = b"") -> bytes:
    """A PDF whose numbered objects are ``objects`` (object 1 the catalog),
    with a correct cross-reference table, so a parser reads exactly what a
    test wrote."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R %s >>\n" % (len(objects) + 1, trailer)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


# One blank page: catalog, page tree, page.
PAGE_OBJECTS = (
    b"<< /Type /Catalog /Pages 2 0 R >>",
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
)
PDF = pdf_bytes(*PAGE_OBJECTS)


def _image(kind: str, size=(8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (0, 94, 184)).save(out, format=kind)
    return out.getvalue()


PNG = _image("PNG")
JPEG = _image("JPEG")


def upload(name: str, content: bytes, content_type: str = "application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)
