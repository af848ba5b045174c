import base64
import io

import qrcode
import qrcode.constants
from PIL import Image

# Any of the eight masks makes a valid code that phones and zxing read.
# Scoring all eight for the "best" took five times as long as the code
# itself; mask 2 is the one that scoring picks most often for
# verification URLs.
MASK_PATTERN = 2


def qr_png(data: str, *, scale: int = 1) -> bytes:
    """A QR code for ``data`` as a greyscale PNG, ``scale`` pixels per
    module, the 4-module quiet zone included.

    Drawn at its printed size with ``image-rendering: pixelated`` (no
    interpolation), every module is an exact square at any zoom, as a
    vector would be; a larger ``scale`` is for mail readers, which may
    smooth a small image. Greyscale, because WeasyPrint takes that as it is
    and converts a one-bit image to colour first. An SVG path of the same
    code took WeasyPrint three times as long to draw, parsing each
    coordinate in Python (see the Benchmarks section of the README).
    """
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, mask_pattern=MASK_PATTERN
    )
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()  # rows of booleans, quiet zone included
    size = len(matrix)
    pixels = bytes(0 if dark else 255 for row in matrix for dark in row)
    image = Image.frombytes("L", (size, size), pixels)
    if scale > 1:
        image = image.resize((size * scale, size * scale), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def qr_png_data_uri(data: str) -> str:
    """``qr_png`` as a ``data:`` URI, one pixel per module, to place in a
    page or PDF (the CSP allows ``data:`` images)."""
    return "data:image/png;base64," + base64.b64encode(qr_png(data)).decode("ascii")
