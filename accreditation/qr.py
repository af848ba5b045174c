import qrcode
import qrcode.image.svg


def qr_svg(data: str) -> str:
    """An SVG QR code for ``data``, to place inline in a certificate."""
    image = qrcode.make(
        data,
        image_factory=qrcode.image.svg.SvgPathImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=10,
        border=4,
    )
    return image.to_string(encoding="unicode")
