import qrcode
import qrcode.constants


def qr_svg(data: str) -> str:
    """An SVG QR code for ``data``, to place inline in a certificate.

    Drawn as one path of horizontal strokes, one per run of dark modules in a
    row: about three times cheaper for WeasyPrint to draw than a closed
    square per module, and still vector for print. The viewBox keeps the
    4-module quiet zone, one unit per module.
    """
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()  # rows of booleans, quiet zone included
    size = len(matrix)
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < size:
            if not row[x]:
                x += 1
                continue
            start = x
            while x < size and row[x]:
                x += 1
            # Through the middle of the row: a 1-wide stroke covers it exactly.
            runs.append(f"M{start} {y}.5h{x - start}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}mm" height="{size}mm" '
        f'viewBox="0 0 {size} {size}"><path d="{"".join(runs)}" stroke="#000" '
        'stroke-width="1" fill="none"/></svg>'
    )
