"""Files in the ODS formats (``/work/shared/ods/README.md``), written for
the tests and the benchmark, which cannot reach the NHS downloads."""

import csv
import io

PCN_HEADER = [
    "Partner Organisation Code",
    "Partner Name",
    "Practice Parent Sub ICB Location Code",
    "Practice Parent Sub ICB Location Name",
    "PCN Code",
    "PCN Name",
    "PCN Parent Sub ICB Location Code",
    "PCN Parent Sub ICB Location Name",
    "Practice to PCN Relationship Start Date",
    "Practice to PCN Relationship End Date",
    "Practice Sub ICB and PCN Sub ICB Match?",
]


def practice_row(
    code: str,
    name: str,
    *,
    icb: str,
    sub_icb: str,
    town: str = "LEEDS",
    postcode: str = "LS1 1AA",
    status: str = "A",
    closed: str = "",
    setting: str = "4",
) -> list[str]:
    """One epraccur.csv row, the 27 columns in the official order."""
    return [
        code,
        name,
        "Y63",
        icb,
        "THE HEALTH CENTRE",
        "1 HIGH STREET",
        town,
        "",
        "",
        postcode,
        "19740401",
        closed,
        status,
        "B",
        sub_icb,
        "20130401",
        closed,
        "0113 496 0000",
        "",
        "",
        "",
        "0",
        "",
        sub_icb,
        "",
        setting,
        "",
    ]


def pcn_row(practice: str, name: str, sub_icb: str, pcn: str, pcn_name: str, end="") -> list:
    return [
        practice,
        name,
        sub_icb,
        f"NHS SUB ICB {sub_icb}",
        pcn,
        pcn_name,
        sub_icb,
        f"NHS SUB ICB {sub_icb}",
        "20200701",
        end,
        "Y",
    ]


def epraccur_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode()


def pcn_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(PCN_HEADER)
    writer.writerows(rows)
    return out.getvalue().encode()
