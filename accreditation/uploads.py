"""Evidence uploads: PDF, PNG or JPEG only, up to 10 MB.

The checks themselves (parsing, refusing active PDF content, re-encoding
images, naming the download) are the toolkit's, in igpm/uploads.py; this
module chooses what evidence may be and says so in the refusals.
"""

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from igpm import uploads
from igpm.uploads import JPEG, PDF, PNG, CheckedUpload

MAX_BYTES = 10 * 1024 * 1024
# Evidence.original_name holds at most this many characters.
NAME_MAX_LENGTH = uploads.NAME_MAX_LENGTH

__all__ = ["MAX_BYTES", "CheckedUpload", "download_name", "evidence_check"]


def evidence_check(upload: UploadedFile | CheckedUpload) -> CheckedUpload:
    """Parse the upload and return what may be stored, or raise a
    ValidationError whose message says what to do instead."""
    if isinstance(upload, CheckedUpload):
        return upload  # checked already, by the form that received it
    name = upload.name or "file"
    data = uploads.read_upload(upload, max_bytes=MAX_BYTES)
    content_type = uploads.sniff(data)
    if content_type == PDF:
        uploads.pdf_check(data, name)
        content = data
    elif content_type in (PNG, JPEG):
        try:
            content = uploads.image_reencode(data, name, content_type)
        except ValidationError as error:
            if error.code == "type":
                raise _not_a_known_type(name) from None
            raise
    else:
        raise _not_a_known_type(name)
    return CheckedUpload(
        content=content, content_type=content_type, download_name=download_name(name, content_type)
    )


def download_name(uploaded_name: str, content_type: str) -> str:
    """The evidence's download name (igpm.uploads.download_name)."""
    return uploads.download_name(uploaded_name, content_type, fallback="evidence")


def _not_a_known_type(name: str) -> ValidationError:
    return ValidationError(
        f"“{name}” is not a PDF, PNG or JPEG file. Save it as one of those and upload it again.",
        code="type",
    )
