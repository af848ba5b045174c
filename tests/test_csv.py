"""The CSV helper every download uses: streamed, formulas neutralised."""

import csv
import io

import pytest

from igpm.csv import csv_cell, csv_response


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+2", "'=1+2"),
        ("+44 161", "'+44 161"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Riverside", "Riverside"),
        ("", ""),
        (None, ""),
        (-5, -5),
        (12.5, 12.5),
    ],
)
def test_csv_cells_that_start_a_formula_are_kept_as_text(value, cell):
    assert csv_cell(value) == cell


def test_csv_response_streams_one_line_at_a_time():
    produced = []

    def rows():
        for n in range(3):
            produced.append(n)
            yield [f"=row {n}", n]

    response = csv_response(filename="x.csv", header=["name", "n"], rows=rows())
    assert response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
    assert produced == []  # nothing is read before the download starts
    chunks = iter(response.streaming_content)
    assert next(chunks) == b"name,n\r\n"
    assert next(chunks) == b"'=row 0,0\r\n"
    assert produced == [0]
    rest = b"".join(chunks).decode()
    assert list(csv.reader(io.StringIO(rest))) == [["'=row 1", "1"], ["'=row 2", "2"]]
