"""Small ODS files for the tests: a month's epraccur.csv and PCN file, and
the next month's, with a practice opened, one closed, one gone from the
file, one moved to another commissioner and one to another PCN."""

from members.models import CareBoard
from members.organisations.ods_files import epraccur_bytes, pcn_bytes, pcn_row, practice_row

# North East and North Cumbria ICB (QHM), two Sub ICB Locations in it.
ICB = "QHM"
TEES, DURHAM = "16C", "84H"


def north_east_board() -> CareBoard:
    """The seeded board with its ODS code (made again after a flush)."""
    board, _ = CareBoard.objects.update_or_create(
        name="North East and North Cumbria",
        defaults={
            "kind": "icb",
            "nation": "england",
            "region": "North East and Yorkshire",
            "ods_code": ICB,
            "is_active": True,
        },
    )
    return board


def practice(code, name, sub_icb=TEES, **kwargs):
    return practice_row(code, name, icb=ICB, sub_icb=sub_icb, **kwargs)


def month_one() -> tuple[bytes, bytes]:
    rows = [
        practice("A81001", "THE DENSHAM SURGERY", town="STOCKTON-ON-TEES", postcode="TS18 1HU"),
        practice(
            "A81002", "QUEENS PARK MEDICAL CENTRE", town="STOCKTON-ON-TEES", postcode="TS18 2AW"
        ),
        practice("A81003", "VICTORIA MEDICAL PRACTICE", town="HARTLEPOOL", postcode="TS26 8DB"),
        practice("A81004", "BLUEBELL MEDICAL CENTRE", town="MIDDLESBROUGH", postcode="TS5 6HF"),
        practice("A83005", "CLAYPATH MEDICAL PRACTICE", DURHAM, town="DURHAM", postcode="DH1 1QS"),
        # A walk-in centre: not a GP practice, skipped.
        practice("Y00001", "STOCKTON WALK IN CENTRE", town="STOCKTON-ON-TEES", setting="1"),
    ]
    links = [
        pcn_row("A81001", "THE DENSHAM SURGERY", TEES, "U11111", "STOCKTON PCN"),
        pcn_row("A81002", "QUEENS PARK MEDICAL CENTRE", TEES, "U11111", "STOCKTON PCN"),
        pcn_row("A81003", "VICTORIA MEDICAL PRACTICE", TEES, "U22222", "HARTLEPOOL PCN"),
        pcn_row("A81004", "BLUEBELL MEDICAL CENTRE", TEES, "U22222", "HARTLEPOOL PCN"),
        pcn_row("A83005", "CLAYPATH MEDICAL PRACTICE", DURHAM, "U33333", "DURHAM CITY PCN"),
        # An ended relationship: history, not the practice's PCN.
        pcn_row("A81001", "THE DENSHAM SURGERY", TEES, "U99999", "OLD PCN", end="20200630"),
    ]
    return epraccur_bytes(rows), pcn_bytes(links)


def month_two() -> tuple[bytes, bytes]:
    """A81003 closed; A81004 gone from the file; A81002 moved to Durham's
    commissioner; A81001 renamed and moved to Hartlepool PCN; A81006
    opened; the Stockton PCN renamed."""
    rows = [
        practice("A81001", "THE DENSHAM PRACTICE", town="STOCKTON-ON-TEES", postcode="TS18 1HU"),
        practice(
            "A81002",
            "QUEENS PARK MEDICAL CENTRE",
            DURHAM,
            town="STOCKTON-ON-TEES",
            postcode="TS18 2AW",
        ),
        practice(
            "A81003",
            "VICTORIA MEDICAL PRACTICE",
            town="HARTLEPOOL",
            postcode="TS26 8DB",
            status="C",
            closed="20261031",
        ),
        practice("A83005", "CLAYPATH MEDICAL PRACTICE", DURHAM, town="DURHAM", postcode="DH1 1QS"),
        practice(
            "A81006", "NORTH TEES NEW PRACTICE", town="STOCKTON-ON-TEES", postcode="TS19 0AB"
        ),
    ]
    links = [
        pcn_row("A81001", "THE DENSHAM PRACTICE", TEES, "U22222", "HARTLEPOOL PCN"),
        pcn_row("A81002", "QUEENS PARK MEDICAL CENTRE", DURHAM, "U11111", "STOCKTON NORTH PCN"),
        pcn_row("A83005", "CLAYPATH MEDICAL PRACTICE", DURHAM, "U33333", "DURHAM CITY PCN"),
        pcn_row("A81006", "NORTH TEES NEW PRACTICE", TEES, "U11111", "STOCKTON NORTH PCN"),
    ]
    return epraccur_bytes(rows), pcn_bytes(links)
