"""Private files (evidence, certificates, data exports) handed to the one
person a view has already decided may have them.

The bytes are streamed from storage through the view rather than by
redirecting to a pre-signed object-storage URL: the bucket then never has to
be reachable from the internet, no bearer link exists that could be copied
into an email or a proxy log, and the response keeps the portal's own
headers (Content-Disposition, Content-Security-Policy, nosniff,
Cache-Control) whichever storage holds the file.
"""

from botocore.exceptions import ClientError
from django.db.models.fields.files import FieldFile
from django.http import FileResponse
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

# Bytes read from object storage per chunk sent to the client.
CHUNK_BYTES = 64 * 1024


class _ObjectBody:
    """An S3 object's body read straight off the connection, chunk by chunk:
    django-storages' own file would first copy the whole object into
    memory."""

    def __init__(self, body, size: int):
        self._body = body
        self.size = size

    def read(self, amount: int = -1) -> bytes:
        return self._body.read(None if amount is None or amount < 0 else amount)

    def close(self) -> None:
        self._body.close()


def _open(fieldfile: FieldFile):
    storage = fieldfile.storage
    if isinstance(storage, S3Storage):
        # The object key as django-storages itself builds it (with the
        # configured AWS_LOCATION prefix).
        key = storage._normalize_name(clean_name(fieldfile.name))
        try:
            found = storage.bucket.Object(key).get()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(fieldfile.name) from exc
            raise
        return _ObjectBody(found["Body"], found["ContentLength"])
    return fieldfile.open("rb")


def private_file_response(
    fieldfile: FieldFile, *, filename: str, content_type: str, inline: bool = False
) -> FileResponse:
    """A stored file, as a download unless ``inline`` (only for a type the
    portal verified or re-encoded itself), never kept by shared caches."""
    source = _open(fieldfile)
    response = FileResponse(
        source,
        as_attachment=not inline,
        filename=filename,
        content_type=content_type,
    )
    response.block_size = CHUNK_BYTES
    if isinstance(source, _ObjectBody):
        response["Content-Length"] = str(source.size)
    response["Cache-Control"] = "private, no-store"
    return response
