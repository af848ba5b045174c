"""The ticket's QR code: the check-in code, drawn so that a desk scanner
reading it types the code into the check-in box."""

import io

import qrcode
import qrcode.constants
from django.utils.safestring import SafeString, mark_safe

from accreditation.qr import qr_svg

from .models import Registration


def ticket_qr_svg(registration: Registration) -> SafeString:
    # The SVG is drawn from the code's modules: path data and numbers, no
    # text from the code itself, so nothing a registrant typed reaches it.
    return mark_safe(qr_svg(registration.checkin_code))  # noqa: S308


def ticket_qr_png(registration: Registration) -> bytes:
    """The same code as a PNG, for an email attachment (mail readers do not
    all show SVG)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(registration.checkin_code)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer, format="PNG")
    return buffer.getvalue()
