"""The ticket's QR code: the check-in code, drawn so that a desk scanner
reading it types the code into the check-in box."""

from accreditation.qr import qr_png, qr_png_data_uri

from .models import Registration


def ticket_qr_data_uri(registration: Registration) -> str:
    """For the ticket page: one pixel per module, drawn large and sharp by
    the stylesheet."""
    return qr_png_data_uri(registration.checkin_code)


def ticket_qr_png(registration: Registration) -> bytes:
    """For the confirmation email's attachment: large enough that a mail
    reader shows sharp modules without scaling it up."""
    return qr_png(registration.checkin_code, scale=8)
