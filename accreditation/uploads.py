"""Evidence uploads: PDF, PNG or JPEG only, recognised by their content.

The file's name and the browser's stated type are not trusted: an
executable, an HTML page or an SVG renamed ``.pdf`` is refused because its
first bytes are not those of a PDF.
"""

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

MAX_BYTES = 10 * 1024 * 1024

# Leading bytes ("magic numbers") of each accepted format.
SIGNATURES = [
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
]


def evidence_check(upload: UploadedFile) -> str:
    """Return the file's real content type, or raise a ValidationError whose
    message says what to do instead."""
    if upload.size == 0:
        raise ValidationError(f"“{upload.name}” is empty. Choose the file again.", code="empty")
    if upload.size > MAX_BYTES:
        megabytes = upload.size / (1024 * 1024)
        raise ValidationError(
            f"“{upload.name}” is {megabytes:.1f} MB. Files must be 10 MB or smaller.",
            code="too_big",
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for signature, content_type, _ in SIGNATURES:
        if head.startswith(signature):
            if content_type == "application/pdf" and not _pdf_ends_like_one(upload):
                break
            return content_type
    raise ValidationError(
        f"“{upload.name}” is not a PDF, PNG or JPEG file. Save it as one of those and "
        "upload it again.",
        code="type",
    )


def _pdf_ends_like_one(upload: UploadedFile) -> bool:
    """A real PDF has an end-of-file marker near its end."""
    size = upload.size
    upload.seek(max(0, size - 2048))
    tail = upload.read()
    upload.seek(0)
    return b"%%EOF" in tail
