"""The ODS import: practices, PCNs, Sub ICB Locations and ICBs from the
official files, idempotent, never deleting, with a report of what changed."""

import datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from members.models import AuditEntry, NHSOrganisation, OdsImport
from members.organisations.ods_files import epraccur_bytes, pcn_bytes, pcn_row
from members.organisations.ods_import import OdsFileError, ods_import, profiles_link
from tests.factories import ProfileFactory
from tests.members.ods_world import (
    DURHAM,
    ICB,
    TEES,
    month_one,
    month_two,
    north_east_board,
    practice,
)

pytestmark = pytest.mark.django_db

Kind = NHSOrganisation.Kind
Status = NHSOrganisation.Status


def org(code: str) -> NHSOrganisation:
    return NHSOrganisation.objects.select_related("pcn", "sub_icb", "icb").get(code=code)


def import_month(files, **kwargs):
    practices, pcns = files
    return ods_import(practices=practices, pcns=pcns, **kwargs)


def test_a_first_import_loads_practices_with_their_pcn_commissioner_and_icb():
    board = north_east_board()
    report = import_month(month_one())

    assert sorted(report.practices.added) == ["A81001", "A81002", "A81003", "A81004", "A83005"]
    assert report.skipped == 1  # the walk-in centre
    assert not NHSOrganisation.objects.filter(code="Y00001").exists()
    densham = org("A81001")
    assert densham.kind == Kind.PRACTICE
    assert densham.name == "THE DENSHAM SURGERY"
    assert densham.status == Status.ACTIVE
    assert densham.town == "STOCKTON-ON-TEES"
    assert densham.postcode == "TS18 1HU"
    assert densham.address == "THE HEALTH CENTRE, 1 HIGH STREET, STOCKTON-ON-TEES"
    assert densham.opened_on == datetime.date(1974, 4, 1)
    assert densham.phone == "0113 496 0000"
    # The current PCN, not the ended one; the commissioner and the ICB.
    assert densham.pcn.code == "U11111"
    assert densham.pcn.name == "STOCKTON PCN"
    assert densham.sub_icb.code == TEES
    assert densham.sub_icb.name == f"NHS SUB ICB {TEES}"
    assert densham.icb.code == ICB
    # The ICB takes its care board's name; the PCN and Sub ICB hang under it.
    assert densham.icb.name == board.name
    assert densham.pcn.sub_icb.code == TEES
    assert densham.pcn.icb.code == ICB
    assert densham.sub_icb.icb.code == ICB
    assert not NHSOrganisation.objects.filter(code="U99999").exists()
    assert sorted(report.pcns.added) == ["U11111", "U22222", "U33333"]


def test_importing_the_same_files_again_changes_nothing():
    north_east_board()
    import_month(month_one())
    before = {row["code"]: row for row in NHSOrganisation.objects.values()}

    report = import_month(month_one())

    assert report.practices.unchanged == 5
    assert report.pcns.unchanged == 3
    for part in (report.practices, report.pcns, report.sub_icbs, report.icbs):
        assert (part.added, part.changed, part.moved, part.closed) == ([], [], [], [])
    after = {row["code"]: row for row in NHSOrganisation.objects.values()}
    assert after == before  # not a column touched, updated_at included


def test_next_month_opens_closes_moves_and_renames_and_deletes_nothing():
    north_east_board()
    import_month(month_one())
    ids = dict(NHSOrganisation.objects.values_list("code", "pk"))

    report = import_month(month_two())

    p = report.practices
    assert p.added == ["A81006"]
    # A81003 is marked closed by the file; A81004 is no longer in it.
    assert sorted(p.closed) == ["A81003", "A81004"]
    # Moved: a new commissioner (A81002) and a new PCN (A81001).
    assert sorted(p.moved) == ["A81001", "A81002"]
    assert p.changed == ["A81001"]  # renamed; closing is counted as closed only
    assert p.unchanged == 1  # A83005

    closed = org("A81003")
    assert closed.status == Status.CLOSED
    assert closed.closed_on == datetime.date(2026, 10, 31)
    assert closed.pcn.code == "U22222"  # a closed practice keeps its last PCN
    gone = org("A81004")
    assert gone.status == Status.CLOSED
    densham = org("A81001")
    assert densham.name == "THE DENSHAM PRACTICE"
    assert densham.pcn.code == "U22222"
    queens = org("A81002")
    assert queens.sub_icb.code == DURHAM
    assert org("U11111").name == "STOCKTON NORTH PCN"
    assert report.pcns.changed == ["U11111"]
    # Never deleted: every row of month one is still the same row.
    for code, pk in ids.items():
        assert NHSOrganisation.objects.get(code=code).pk == pk

    # And the month's files a second time: nothing.
    again = import_month(month_two())
    assert (again.practices.added, again.practices.changed, again.practices.moved) == ([], [], [])
    assert again.practices.closed == []


def test_a_pcn_no_longer_listed_is_closed_and_an_open_practice_out_of_it_has_left():
    north_east_board()
    import_month(month_one())
    practices, _ = month_one()
    links = pcn_bytes(
        [
            pcn_row("A81001", "THE DENSHAM SURGERY", TEES, "U11111", "STOCKTON PCN"),
            pcn_row("A81002", "QUEENS PARK MEDICAL CENTRE", TEES, "U11111", "STOCKTON PCN"),
            pcn_row("A83005", "CLAYPATH MEDICAL PRACTICE", DURHAM, "U33333", "DURHAM CITY PCN"),
        ]
    )
    report = ods_import(practices=practices, pcns=links)
    assert report.pcns.closed == ["U22222"]
    assert org("U22222").status == Status.CLOSED
    assert org("A81003").pcn is None
    assert sorted(report.practices.moved) == ["A81003", "A81004"]


def test_without_a_pcn_file_practices_keep_their_pcn():
    north_east_board()
    import_month(month_one())
    practices, _ = month_one()
    report = ods_import(practices=practices)
    assert report.practices.moved == []
    assert org("A81001").pcn.code == "U11111"


def test_an_icb_without_a_care_board_is_named_by_its_code():
    rows = [practice("A81001", "THE DENSHAM SURGERY")]
    rows[0][3] = "QZZ"
    ods_import(practices=epraccur_bytes(rows))
    assert org("QZZ").name == "ICB QZZ"
    assert org("QZZ").kind == Kind.ICB


def test_the_wrong_file_is_refused_and_nothing_is_written():
    _, pcns = month_one()
    with pytest.raises(OdsFileError, match=r"does not look like epraccur\.csv"):
        ods_import(practices=pcns)
    practices, _ = month_one()
    with pytest.raises(OdsFileError, match="PCN core-partner file"):
        ods_import(practices=practices, pcns=practices)
    assert not NHSOrganisation.objects.exists()


def test_rows_that_cannot_be_read_are_reported_with_their_row_number():
    rows = [practice("A81001", "THE DENSHAM SURGERY"), practice("A81002", "BAD DATE")]
    rows[1][10] = "31/02/1974x"
    rows.append(practice("A81007", "BAD STATUS"))
    rows[2][12] = "Z"
    report = ods_import(practices=epraccur_bytes(rows) + b'"A81008","SHORT"\r\n')
    assert report.practices.added == ["A81001"]
    assert report.errors == [
        "Row 2 (A81002): '31/02/1974x' is not a date.",
        "Row 3 (A81007): unknown status 'Z'.",
        "Row 4: 2 columns, not 27.",
    ]


def test_windows_1252_and_a_byte_order_mark_are_read():
    rows = [practice("A81001", "ST BRIDE\u2019S SURGERY")]
    data = epraccur_bytes(rows)
    ods_import(practices=data.decode().encode("cp1252"))
    assert org("A81001").name == "ST BRIDE\u2019S SURGERY"
    report = ods_import(practices=b"\xef\xbb\xbf" + data)
    assert report.practices.unchanged == 1


def test_profiles_with_a_code_the_import_brings_in_are_linked_to_the_practice():
    waiting = ProfileFactory(ods_code="A81006")
    unknown = ProfileFactory(ods_code="B99999")
    north_east_board()
    import_month(month_one())
    waiting.refresh_from_db()
    assert waiting.practice is None and waiting.ods_code_unknown

    report = import_month(month_two())

    assert report.profiles_linked == 1
    waiting.refresh_from_db()
    unknown.refresh_from_db()
    assert waiting.practice == org("A81006")
    assert not waiting.ods_code_unknown
    assert unknown.practice is None and unknown.ods_code_unknown
    assert profiles_link() == 0


def test_the_command_imports_reports_and_records_each_run(tmp_path):
    north_east_board()
    practices, pcns = month_one()
    (tmp_path / "epraccur.csv").write_bytes(practices)
    (tmp_path / "pcns.csv").write_bytes(pcns)
    args = [str(tmp_path / "epraccur.csv"), "--pcns", str(tmp_path / "pcns.csv")]
    from io import StringIO

    out = StringIO()
    call_command("ods_import", *args, stdout=out)
    assert "Practices: 5 added, 0 changed, 0 moved, 0 closed, 0 unchanged." in out.getvalue()
    out = StringIO()
    call_command("ods_import", *args, stdout=out)
    assert "Practices: 0 added, 0 changed, 0 moved, 0 closed, 5 unchanged." in out.getvalue()

    runs = list(OdsImport.objects.order_by("pk"))
    assert [run.status for run in runs] == ["done", "done"]
    assert runs[0].report["practices"]["added"] == 5
    entry = AuditEntry.objects.filter(action="ods_imported").order_by("pk").first()
    assert entry.target_id == runs[0].pk
    assert entry.data["practices"]["added"] == 5

    with pytest.raises(CommandError, match=r"does not look like epraccur\.csv"):
        call_command("ods_import", str(tmp_path / "pcns.csv"))
    assert OdsImport.objects.order_by("pk").last().status == "failed"
    with pytest.raises(CommandError, match="No such file"):
        call_command("ods_import", str(tmp_path / "missing.csv"))
