"""Uploaded files recognised by parsing them, for any app that takes them.

Neither the file's name nor the browser's stated type is trusted, and
neither are the first bytes alone: a file is accepted only when a PDF
library or Pillow can open it as what it claims to be. Which types an
upload may be, and how big, is the calling app's choice
(accreditation/uploads.py for evidence, members/consultations for a
consultation's document).

- A PDF is parsed with pypdf and refused when it is encrypted, or carries
  JavaScript, a launch action or embedded files: whoever opens it in a
  viewer must not run anything. The file is stored as it was sent.
- An image is opened by Pillow, refused above a pixel limit (a small file
  can claim a huge image, which would take gigabytes to decode), and
  re-encoded: what is stored is only the pixels, with no trailing data and
  no metadata (a phone photo's location, say).
- The name a file is later downloaded as is the uploader's base name with
  the extension of the type found, so ``cv.html`` holding a PDF downloads
  as ``cv.pdf``.
"""

import io
import logging
import re
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import PureWindowsPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

# A stored original name holds at most this many characters.
NAME_MAX_LENGTH = 200
# A PDF with more objects than this is not a document a person uploads.
PDF_MAX_OBJECTS = 100_000

PDF, PNG, JPEG = "application/pdf", "image/png", "image/jpeg"
EXTENSIONS = {PDF: ".pdf", PNG: ".png", JPEG: ".jpg"}
# Leading bytes of each known format: which parser to try.
SIGNATURES = [(b"%PDF-", PDF), (b"\x89PNG\r\n\x1a\n", PNG), (b"\xff\xd8\xff", JPEG)]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed the checks: what to store and how to name it."""

    content: bytes
    content_type: str
    download_name: str

    @property
    def size(self) -> int:
        return len(self.content)

    def as_file(self, name: str = "upload") -> ContentFile:
        return ContentFile(self.content, name=name)


def read_upload(upload: UploadedFile, *, max_bytes: int) -> bytes:
    """The upload's bytes, or a ValidationError when it is empty or larger
    than ``max_bytes`` (checked before anything is read)."""
    name = upload.name or "file"
    if upload.size == 0:
        raise ValidationError(f"“{name}” is empty. Choose the file again.", code="empty")
    if upload.size > max_bytes:
        megabytes = upload.size / (1024 * 1024)
        raise ValidationError(
            f"“{name}” is {megabytes:.1f} MB. Files must be "
            f"{max_bytes // (1024 * 1024)} MB or smaller.",
            code="too_big",
        )
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return data


def sniff(data: bytes) -> str | None:
    """The known type ``data`` starts like, for choosing its parser."""
    return next((kind for sig, kind in SIGNATURES if data.startswith(sig)), None)


def download_name(uploaded_name: str, content_type: str, *, fallback: str = "file") -> str:
    """The uploader's base name with the extension of ``content_type``,
    cut to fit the column without losing the extension."""
    extension = EXTENSIONS.get(content_type, "")
    # A browser may send a whole Windows path; either slash ends a folder.
    base = PureWindowsPath(uploaded_name.replace("/", "\\")).name
    stem = base.rsplit(".", 1)[0] if "." in base else base
    # No control characters, quotes or separators in a Content-Disposition.
    stem = "".join(c for c in stem if unicodedata.category(c)[0] != "C")
    stem = re.sub(r'["\\/;:*?<>|]+', "_", stem).strip(" .")
    stem = stem[: NAME_MAX_LENGTH - len(extension)].rstrip(" .") or fallback
    return stem + extension


# --- PDF --------------------------------------------------------------------

# What a PDF may carry that makes a viewer do more than show pages.
# XFA forms carry scripts of their own.
_JAVASCRIPT_KEYS = {"/JS", "/JavaScript", "/XFA"}
_EMBEDDED_KEYS = {"/EmbeddedFiles", "/EmbeddedFile", "/EF"}


class _Refused(Exception):
    def __init__(self, code: str):
        self.code = code


_PDF_MESSAGES = {
    "unreadable": (
        "“{name}” could not be opened as a PDF: it may be damaged, or not a PDF at all. "
        "Save it again as a PDF and upload it again."
    ),
    "encrypted": (
        "“{name}” is protected by a password. Save a copy without the password and upload that."
    ),
    "javascript": (
        "“{name}” contains JavaScript, which is not accepted. Print it to a new PDF "
        "(Print, then Save as PDF) and upload that."
    ),
    "launch": (
        "“{name}” contains an action that starts another program, which is not "
        "accepted. Print it to a new PDF (Print, then Save as PDF) and upload that."
    ),
    "embedded": (
        "“{name}” has other files attached inside it, which is not accepted. Upload "
        "each document as a PDF of its own."
    ),
}


def pdf_check(data: bytes, name: str) -> None:
    """Raise a ValidationError (code ``pdf_…``) unless ``data`` opens as a
    PDF with pages and nothing in it that may run or carry files."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise _Refused("encrypted")
            if len(reader.pages) < 1:
                raise _Refused("unreadable")
            _pdf_walk(reader.trailer)
    except _Refused as refused:
        raise ValidationError(
            _PDF_MESSAGES[refused.code].format(name=name), code=f"pdf_{refused.code}"
        ) from None
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        # pypdf raises many kinds of error on a broken file; each means the
        # same to the uploader.
        logger.info("Uploaded PDF refused as unreadable", exc_info=True)
        raise ValidationError(
            _PDF_MESSAGES["unreadable"].format(name=name), code="pdf_unreadable"
        ) from None


def _pdf_walk(root) -> None:
    """Visit every object reachable from the trailer (all a viewer can act
    on) and refuse what may run or carry files."""
    seen: set[tuple[int, int]] = set()
    stack = [root]
    visited = 0
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            ref = (obj.idnum, obj.generation)
            if ref in seen:
                continue
            seen.add(ref)
            obj = obj.get_object()
        visited += 1
        if visited > PDF_MAX_OBJECTS:
            raise _Refused("unreadable")
        if isinstance(obj, DictionaryObject):
            keys = set(obj.keys())
            action = _direct(obj.get("/S"))
            if keys & _JAVASCRIPT_KEYS or action == "/JavaScript":
                raise _Refused("javascript")
            if "/Launch" in keys or action == "/Launch":
                raise _Refused("launch")
            if (
                keys & _EMBEDDED_KEYS
                or _direct(obj.get("/Type")) == "/EmbeddedFile"
                or _direct(obj.get("/Subtype")) == "/FileAttachment"
            ):
                raise _Refused("embedded")
            stack.extend(obj.values())
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)


def _direct(value):
    """A dictionary value, followed if it is a reference to another object."""
    return value.get_object() if isinstance(value, IndirectObject) else value


# --- Images -----------------------------------------------------------------


def image_reencode(data: bytes, name: str, content_type: str) -> bytes:
    """Only the pixels of a PNG or JPEG, saved afresh; a ValidationError
    when it is too big, damaged, or (code ``type``) not the format its
    first bytes claim."""
    limit = settings.UPLOAD_IMAGE_MAX_PIXELS
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb check warns, then fails at twice its limit;
            # the portal's lower limit is checked below, before decoding.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > limit:
                raise _too_many_pixels(name, width, height, limit)
            expected = "PNG" if content_type == PNG else "JPEG"
            # Phones save photos as MPO: a JPEG with extra views after it.
            if image.format != expected and not (expected == "JPEG" and image.format == "MPO"):
                raise ValidationError(
                    f"“{name}” is not a {expected} file, whatever its first bytes say.",
                    code="type",
                )
            image.load()
            # Turn the picture the way its camera said, before that note
            # goes with the rest of the metadata.
            image = ImageOps.exif_transpose(image)
            out = io.BytesIO()
            if expected == "PNG":
                if image.mode not in ("1", "L", "LA", "I", "P", "RGB", "RGBA"):
                    image = image.convert("RGBA")
                image.save(out, format="PNG", optimize=False)
            else:
                if image.mode not in ("L", "RGB", "CMYK"):
                    image = image.convert("RGB")
                image.save(out, format="JPEG", quality=90)
    except Image.DecompressionBombError:
        raise _too_many_pixels(name, None, None, limit) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        logger.info("Uploaded image refused as unreadable", exc_info=True)
        raise ValidationError(
            f"“{name}” could not be opened as an image: it may be damaged. Save it again "
            "as a PNG or JPEG and upload it again.",
            code="image_unreadable",
        ) from None
    return out.getvalue()


def _too_many_pixels(name: str, width, height, limit: int) -> ValidationError:
    size = f" ({width:,} by {height:,} pixels)" if width else ""
    return ValidationError(
        f"“{name}” is too large an image{size}. Images can be up to "
        f"{limit // 1_000_000} megapixels: make it smaller and upload it again.",
        code="image_too_big",
    )
