"""The ODS import: GP practices from ``epraccur.csv`` and their PCNs from the
PCN core-partner file (formats: ``/work/shared/ods/README.md``, and the
README's "NHS ODS data" section), into ``NHSOrganisation``.

Run it every month on the new files: it is idempotent. A practice seen
before is updated in place (name, address, status, dates, its Sub ICB
Location, PCN and ICB); one the file marks closed is marked closed, and
one the file no longer lists at all is marked closed too: nothing is ever
deleted, so members and organisation accounts that name it keep their link.
A second run of the same files writes nothing.

How the codes hang together:

- a practice row names its commissioner (column 15, a Sub ICB Location)
  and its ICB (column 4, "High Level Health Geography"); Sub ICB Locations
  and ICBs are created from those codes. An ICB is named after the
  ``CareBoard`` with the same ``ods_code`` (migration 0019 gives England's
  42 their codes), so ``care_board_for`` finds a practice's board;
- the PCN file gives each practice's current PCN (a row with no end date,
  or one in the future; the latest start wins), the PCN's name and parent
  Sub ICB Location, and the Sub ICB Locations' names. Without a PCN file,
  practices keep the PCN links they have. An open practice the PCN file no
  longer lists has left its PCN; a closed one keeps its last PCN. A PCN the
  file no longer lists is marked closed.

Only rows whose prescribing setting (column 26) is 4, GP practices, are
imported; walk-in centres, out-of-hours services and the like are counted
as skipped. Everything is read and compared in memory and written with
bulk inserts and updates, in one transaction, under a lock so two imports
never interleave: 10,000 practices take a few seconds
(``benchmarks/ods_import.py``).
"""

import codecs
import csv
import datetime
import io
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from members.audit import audit_record
from members.models import ODS_PRACTICE_CODE, CareBoard, NHSOrganisation, OdsImport, Profile, User

Kind = NHSOrganisation.Kind
Status = NHSOrganisation.Status

PRACTICE_COLUMNS = 27
STATUS_CODES = {"A": Status.ACTIVE, "C": Status.CLOSED, "D": Status.DORMANT, "P": Status.PROPOSED}
GP_PRACTICE_SETTING = "4"
# Codes listed in a report, per kind of change: enough to check by eye.
REPORT_CODES_MAX = 100
BATCH_SIZE = 1000
# Rows read between two progress reports.
PROGRESS_EVERY = 1000
ADVISORY_LOCK_KEY = 0x0D5_1300  # "ODS import", for pg_advisory_xact_lock

Progress = Callable[[int, str], None]  # (percent, what is happening)

# The fields an import sets, compared to tell "changed" from "unchanged".
DETAIL_FIELDS = (
    "name",
    "kind",
    "status",
    "address",
    "town",
    "postcode",
    "phone",
    "opened_on",
    "closed_on",
)
LINK_FIELDS = ("sub_icb_id", "pcn_id", "icb_id")


class OdsFileError(ValueError):
    """The file is not one the import can read: says why, for the person
    who uploaded it."""


@dataclass
class Desired:
    """What the files say one organisation is."""

    code: str
    kind: str
    name: str
    status: str = Status.ACTIVE
    address: str = ""
    town: str = ""
    postcode: str = ""
    phone: str = ""
    opened_on: datetime.date | None = None
    closed_on: datetime.date | None = None
    # Codes of the parents, resolved to ids once every parent exists.
    sub_icb: str = ""
    pcn: str = ""
    icb: str = ""
    keep_pcn: bool = False  # no PCN file, or closed and not listed: keep the link


@dataclass
class KindReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    unchanged: int = 0

    def as_dict(self) -> dict:
        return {
            "added": len(self.added),
            "changed": len(self.changed),
            "moved": len(self.moved),
            "closed": len(self.closed),
            "unchanged": self.unchanged,
            "added_codes": self.added[:REPORT_CODES_MAX],
            "changed_codes": self.changed[:REPORT_CODES_MAX],
            "moved_codes": self.moved[:REPORT_CODES_MAX],
            "closed_codes": self.closed[:REPORT_CODES_MAX],
        }


@dataclass
class ImportReport:
    """What one import did. ``practices`` and ``pcns`` count added, changed
    (name, address, phone, dates, a reopening), moved (a new Sub ICB Location, PCN or
    ICB) and closed; a practice can be both changed and moved."""

    practices: KindReport = field(default_factory=KindReport)
    pcns: KindReport = field(default_factory=KindReport)
    sub_icbs: KindReport = field(default_factory=KindReport)
    icbs: KindReport = field(default_factory=KindReport)
    rows: int = 0
    skipped: int = 0  # rows that are not GP practices
    errors: list[str] = field(default_factory=list)  # rows that could not be read
    profiles_linked: int = 0

    def as_dict(self) -> dict:
        return {
            "rows": self.rows,
            "skipped": self.skipped,
            "errors": self.errors[:REPORT_CODES_MAX],
            "error_count": len(self.errors),
            "profiles_linked": self.profiles_linked,
            "practices": self.practices.as_dict(),
            "pcns": self.pcns.as_dict(),
            "sub_icbs": self.sub_icbs.as_dict(),
            "icbs": self.icbs.as_dict(),
        }

    def summary(self) -> str:
        p, n = self.practices, self.pcns
        return (
            f"Practices: {len(p.added)} added, {len(p.changed)} changed, "
            f"{len(p.moved)} moved, {len(p.closed)} closed, {p.unchanged} unchanged. "
            f"PCNs: {len(n.added)} added, {len(n.changed)} changed, {len(n.moved)} moved, "
            f"{len(n.closed)} closed. Rows read: {self.rows}; not GP practices: "
            f"{self.skipped}; rows with errors: {len(self.errors)}; "
            f"member profiles newly linked to their practice: {self.profiles_linked}."
        )


# --- Reading the files ----------------------------------------------------------


def text_lines(raw: bytes | io.IOBase | Iterable) -> Iterable[str]:
    """Lines of text from bytes or a binary file: UTF-8 (with or without a
    byte-order mark), else Windows-1252, the two encodings the ODS files
    have come in."""
    if isinstance(raw, bytes | bytearray):
        data = bytes(raw)
    elif hasattr(raw, "read"):
        data = raw.read()
        if isinstance(data, str):
            return io.StringIO(data)
    else:
        return raw
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    if "\x00" in text:
        raise OdsFileError("The file holds binary data: upload the CSV file itself.")
    return io.StringIO(text, newline="")


def parse_date(value: str) -> datetime.date | None:
    """YYYYMMDD as epraccur has it; DD/MM/YYYY and YYYY-MM-DD as the ePCN
    workbook's CSV exports have had it. Blank is None."""
    value = value.strip()
    if not value:
        return None
    for pattern in ("%Y%m%d", "%d/%m/%Y", "%Y-%m-%d", "%d-%b-%y", "%d-%b-%Y"):
        try:
            return datetime.datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"{value!r} is not a date")


def _town(lines: list[str]) -> str:
    # Address lines 1-5 hold the street lines, then the town, then (often)
    # the county: the town is line 4 when line 5 is filled, line 3 when 3
    # and 4 are, else the last line given.
    if lines[4] and lines[3]:
        return lines[3]
    if lines[3] and lines[2]:
        return lines[2]
    given = [line for line in lines if line]
    return given[-1] if given else ""


def _csv_rows(lines: Iterable[str], label: str) -> Iterator[list[str]]:
    """``csv.reader``'s rows, its errors (a field over the size limit, a
    NUL byte, a broken quote) refused as ``OdsFileError`` naming the row."""
    reader = csv.reader(lines)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise OdsFileError(
                f"The {label} cannot be read as CSV at row {reader.line_num}: {error}. "
                "Upload the CSV file from the ODS download, unchanged."
            ) from error
        yield row


def practices_read(lines: Iterable[str], report: ImportReport) -> dict[str, Desired]:
    """epraccur.csv: no header, 27 quoted columns. Rows that are not GP
    practices are skipped; rows that cannot be read are listed as errors
    with their row number and skipped."""
    practices: dict[str, Desired] = {}
    for number, row in enumerate(_csv_rows(lines, "practices file"), start=1):
        if not row or not any(cell.strip() for cell in row):
            continue
        report.rows += 1
        if number == 1 and len(row) < 15:
            raise OdsFileError(
                "This does not look like epraccur.csv: its first row has "
                f"{len(row)} columns, not {PRACTICE_COLUMNS}."
            )
        if len(row) < 15:
            report.errors.append(f"Row {number}: {len(row)} columns, not {PRACTICE_COLUMNS}.")
            continue
        row = [cell.strip() for cell in row] + [""] * (PRACTICE_COLUMNS - len(row))
        code = row[0].upper()
        if number == 1 and not ODS_PRACTICE_CODE.match(code):
            raise OdsFileError(
                "This does not look like epraccur.csv: the first column should be "
                f"a practice code like A81001, not {code[:20]!r}."
            )
        if row[25] and row[25] != GP_PRACTICE_SETTING:
            report.skipped += 1
            continue
        if not ODS_PRACTICE_CODE.match(code):
            report.errors.append(f"Row {number}: {code[:20]!r} is not a practice code.")
            continue
        status = STATUS_CODES.get(row[12].upper())
        if status is None:
            report.errors.append(f"Row {number} ({code}): unknown status {row[12][:5]!r}.")
            continue
        try:
            opened_on, closed_on = parse_date(row[10]), parse_date(row[11])
        except ValueError as error:
            report.errors.append(f"Row {number} ({code}): {error}.")
            continue
        address_lines = row[4:9]
        practices[code] = Desired(
            code=code,
            kind=Kind.PRACTICE,
            name=row[1][:200],
            status=status,
            address=", ".join(line for line in address_lines if line)[:400],
            town=_town(address_lines)[:100],
            postcode=row[9].upper()[:10],
            phone=row[17][:32],
            opened_on=opened_on,
            closed_on=closed_on,
            sub_icb=row[14].upper()[:10],
            icb=row[3].upper()[:10],
        )
    return practices


PCN_COLUMNS = {
    "partner organisation code": "practice",
    "practice parent sub icb location code": "practice_sub_icb",
    "practice parent sub icb location name": "practice_sub_icb_name",
    "pcn code": "pcn",
    "pcn name": "pcn_name",
    "pcn parent sub icb location code": "pcn_sub_icb",
    "pcn parent sub icb location name": "pcn_sub_icb_name",
    "practice to pcn relationship start date": "start",
    "practice to pcn relationship end date": "end",
}
PCN_REQUIRED = ("practice", "pcn", "pcn_name")


@dataclass
class PcnData:
    pcns: dict[str, Desired]
    practice_pcn: dict[str, str]  # practice code -> PCN code
    sub_icb_names: dict[str, str]


def pcns_read(lines: Iterable[str], report: ImportReport, today: datetime.date) -> PcnData:
    """The PCN core-partner file: a header row, then one row per practice
    and PCN relationship, current or ended."""
    reader = _csv_rows(lines, "PCN file")
    header = next(reader, None)
    if header is None:
        raise OdsFileError("The PCN file is empty.")
    columns = {
        PCN_COLUMNS[name]: index
        for index, name in enumerate(" ".join(cell.split()).lower() for cell in header)
        if name in PCN_COLUMNS
    }
    missing = [name for name in PCN_REQUIRED if name not in columns]
    if missing:
        raise OdsFileError(
            "This does not look like the PCN core-partner file: its header row has no "
            + ", ".join(
                next(k for k, v in PCN_COLUMNS.items() if v == name).title() for name in missing
            )
            + " column."
        )
    pcns: dict[str, Desired] = {}
    current: dict[str, tuple[datetime.date, str]] = {}
    sub_icb_names: dict[str, str] = {}

    def cell(row: list[str], name: str) -> str:
        index = columns.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    for number, row in enumerate(reader, start=2):
        if not any(value.strip() for value in row):
            continue
        practice, pcn = cell(row, "practice").upper(), cell(row, "pcn").upper()
        if not practice or not pcn:
            report.errors.append(f"PCN file row {number}: no practice or PCN code.")
            continue
        try:
            start = parse_date(cell(row, "start")) or datetime.date.min
            end = parse_date(cell(row, "end"))
        except ValueError as error:
            report.errors.append(f"PCN file row {number} ({practice}): {error}.")
            continue
        for code_column, name_column in (
            ("practice_sub_icb", "practice_sub_icb_name"),
            ("pcn_sub_icb", "pcn_sub_icb_name"),
        ):
            code, name = cell(row, code_column).upper(), cell(row, name_column)
            if code and name:
                sub_icb_names[code[:10]] = name[:200]
        if end is not None and end <= today:
            continue  # an ended relationship: history, not the practice's PCN now
        pcns[pcn[:10]] = Desired(
            code=pcn[:10],
            kind=Kind.PCN,
            name=cell(row, "pcn_name")[:200] or pcn,
            sub_icb=cell(row, "pcn_sub_icb").upper()[:10],
        )
        if practice not in current or start >= current[practice][0]:
            current[practice] = (start, pcn[:10])
    return PcnData(
        pcns=pcns,
        practice_pcn={practice: pcn for practice, (_, pcn) in current.items()},
        sub_icb_names=sub_icb_names,
    )


# --- Writing ---------------------------------------------------------------------


def _apply(
    *,
    desired: dict[str, Desired],
    kind: str,
    existing: dict[str, NHSOrganisation],
    ids: dict[str, int],
    report: KindReport,
    close_missing: bool,
) -> None:
    """Create, update and close the organisations of one kind, so the rows
    end as ``desired`` says; ``ids`` (code -> id) gains the new ones."""
    to_create, to_update = [], []
    for code, want in desired.items():
        links = {
            "sub_icb_id": ids.get(want.sub_icb) if want.sub_icb else None,
            "pcn_id": ids.get(want.pcn) if want.pcn else None,
            "icb_id": ids.get(want.icb) if want.icb else None,
        }
        details = {name: getattr(want, name) for name in DETAIL_FIELDS}
        row = existing.get(code)
        if row is None:
            to_create.append(NHSOrganisation(code=code, **details, **links))
            report.added.append(code)
            continue
        if want.keep_pcn:
            links["pcn_id"] = row.pcn_id
        changed = [name for name, value in details.items() if getattr(row, name) != value]
        moved = [name for name, value in links.items() if getattr(row, name) != value]
        if not changed and not moved:
            report.unchanged += 1
            continue
        closing = "status" in changed and want.status == Status.CLOSED
        if closing:
            report.closed.append(code)
        # Closing (with its close date) is reported as closed, not changed.
        if set(changed) - ({"status", "closed_on"} if closing else set()):
            report.changed.append(code)
        if moved:
            report.moved.append(code)
        for name, value in {**details, **links}.items():
            setattr(row, name, value)
        to_update.append(row)
    if close_missing:
        for code, row in existing.items():
            if row.kind == kind and code not in desired and row.status != Status.CLOSED:
                row.status = Status.CLOSED
                to_update.append(row)
                report.closed.append(code)
    now = timezone.now()
    for row in to_update:
        row.updated_at = now
    NHSOrganisation.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    if to_update:
        NHSOrganisation.objects.bulk_update(
            to_update,
            [*DETAIL_FIELDS, *LINK_FIELDS, "updated_at"],
            batch_size=BATCH_SIZE,
        )
    for row in to_create:
        ids[row.code] = row.pk
        existing[row.code] = row


def _no_progress(percent: int, doing: str) -> None:
    pass


def ods_import(
    *,
    practices: bytes | io.IOBase | Iterable[str],
    pcns: bytes | io.IOBase | Iterable[str] | None = None,
    progress: Progress | None = None,
    today: datetime.date | None = None,
) -> ImportReport:
    """Bring the NHS organisations in line with the files; return what
    changed. Refuses (``OdsFileError``, nothing written) a file that is
    not the one it expects."""
    progress = progress or _no_progress
    today = today or timezone.localdate()
    report = ImportReport()
    progress(2, "Reading the practices file")
    wanted = practices_read(text_lines(practices), report)
    pcn_data = pcns_read(text_lines(pcns), report, today) if pcns is not None else None
    progress(25, "Comparing with the organisations already held")

    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
        existing = {row.code: row for row in NHSOrganisation.objects.all()}
        ids = {code: row.pk for code, row in existing.items()}

        # ICBs, named after their care board where one has the code.
        boards = dict(CareBoard.objects.exclude(ods_code="").values_list("ods_code", "name"))
        icbs = {}
        for code in sorted({want.icb for want in wanted.values() if want.icb}):
            old = existing.get(code)
            name = boards.get(code) or (old.name if old else f"ICB {code}")
            icbs[code] = _keep_details(old, Desired(code=code, kind=Kind.ICB, name=name))
        _apply(
            desired=icbs,
            kind=Kind.ICB,
            existing=existing,
            ids=ids,
            report=report.icbs,
            close_missing=False,
        )
        progress(35, "Sub ICB Locations")

        # Sub ICB Locations: in the ICB most of their practices name.
        names = pcn_data.sub_icb_names if pcn_data else {}
        icb_votes: dict[str, Counter] = {}
        for want in wanted.values():
            if want.sub_icb:
                icb_votes.setdefault(want.sub_icb, Counter())[want.icb] += 1
        sub_codes = set(icb_votes) | {
            want.sub_icb for want in (pcn_data.pcns.values() if pcn_data else []) if want.sub_icb
        }
        sub_icbs = {}
        for code in sorted(sub_codes):
            old = existing.get(code)
            name = names.get(code) or (old.name if old else f"Sub ICB Location {code}")
            votes = icb_votes.get(code)
            icb = (
                votes.most_common(1)[0][0]
                if votes
                else (_code_of(old.icb_id, existing) if old else "")
            )
            sub_icbs[code] = _keep_details(
                old, Desired(code=code, kind=Kind.SUB_ICB, name=name, icb=icb)
            )
        _apply(
            desired=sub_icbs,
            kind=Kind.SUB_ICB,
            existing=existing,
            ids=ids,
            report=report.sub_icbs,
            close_missing=False,
        )
        progress(45, "Primary care networks")

        if pcn_data is not None:
            for want in pcn_data.pcns.values():
                want.icb = sub_icbs[want.sub_icb].icb if want.sub_icb in sub_icbs else ""
            _apply(
                desired=pcn_data.pcns,
                kind=Kind.PCN,
                existing=existing,
                ids=ids,
                report=report.pcns,
                close_missing=True,
            )
        progress(55, "Practices")

        for want in wanted.values():
            if pcn_data is None:
                want.keep_pcn = True
            elif want.code in pcn_data.practice_pcn:
                want.pcn = pcn_data.practice_pcn[want.code]
            elif want.status == Status.CLOSED:
                want.keep_pcn = True
        _apply(
            desired=wanted,
            kind=Kind.PRACTICE,
            existing=existing,
            ids=ids,
            report=report.practices,
            close_missing=True,
        )
        progress(90, "Linking members' profiles to their practices")
        report.profiles_linked = profiles_link()
    progress(100, "Finished")
    return report


def _keep_details(old: NHSOrganisation | None, want: Desired) -> Desired:
    """A Sub ICB Location or ICB has only a code and name in these files:
    whatever else it has (status, address) stays as it is."""
    if old is not None:
        for name in DETAIL_FIELDS:
            if name not in ("name", "kind"):
                setattr(want, name, getattr(old, name))
    return want


def _code_of(pk: int | None, existing: dict[str, NHSOrganisation]) -> str:
    if pk is None:
        return ""
    return next((code for code, row in existing.items() if row.pk == pk), "")


def profiles_link() -> int:
    """Link every profile whose ODS code names a practice now known, and
    that has no practice yet, in one statement; return how many."""
    practice = NHSOrganisation.objects.filter(code=OuterRef("ods_code"), kind=Kind.PRACTICE)
    return (
        Profile.objects.filter(practice__isnull=True)
        .exclude(ods_code="")
        .filter(ods_code__in=NHSOrganisation.objects.filter(kind=Kind.PRACTICE).values("code"))
        .update(practice=Subquery(practice.values("pk")[:1]))
    )


# --- A recorded run ---------------------------------------------------------------


def ods_import_record(
    *,
    record: OdsImport,
    practices,
    pcns=None,
    by: User | None = None,
    progress: Progress | None = None,
) -> ImportReport | None:
    """Run the import for one ``OdsImport`` row: mark it running, import,
    keep the report (or why it failed) on the row, and write the audit
    entry. A row already finished is left alone (a task delivered twice
    imports once)."""
    with transaction.atomic():
        record = OdsImport.objects.select_for_update().get(pk=record.pk)
        if record.is_finished:
            return None
        record.status = OdsImport.Status.RUNNING
        record.started_at = timezone.now()
        record.save(update_fields=["status", "started_at"])
    try:
        report = ods_import(practices=practices, pcns=pcns, progress=progress)
    except OdsFileError as error:
        OdsImport.objects.filter(pk=record.pk).update(
            status=OdsImport.Status.FAILED, error=str(error), finished_at=timezone.now()
        )
        raise
    with transaction.atomic():
        record.status = OdsImport.Status.DONE
        record.finished_at = timezone.now()
        record.report = report.as_dict()
        record.save(update_fields=["status", "finished_at", "report"])
        audit_record(
            actor=by,
            actor_label=record.started_by_label,
            target=record,
            action="ods_imported",
            to_state=OdsImport.Status.DONE,
            reason=report.summary()[:500],
            data={
                "practices": {
                    k: v for k, v in record.report["practices"].items() if not k.endswith("codes")
                },
                "pcns": {
                    k: v for k, v in record.report["pcns"].items() if not k.endswith("codes")
                },
            },
        )
    return report


# --- From the admin: the stored files, run by a worker, with progress -------------

PROGRESS_SECONDS = 24 * 3600


def progress_key(import_id: int) -> str:
    return f"ods-import:{import_id}:progress"


def import_progress(record: OdsImport) -> dict:
    """Where a run has got to: ``percent`` (0-100), ``doing`` (words),
    ``status`` and, once finished, ``finished``. Read from the cache the
    worker writes to while it runs, since its transaction is not visible
    until it commits."""
    if record.is_finished:
        percent = 100 if record.status == OdsImport.Status.DONE else 0
        doing = "Finished" if record.status == OdsImport.Status.DONE else "Failed"
    else:
        seen = cache.get(progress_key(record.pk)) or {}
        percent = int(seen.get("percent", 0))
        doing = seen.get("doing") or record.get_status_display()
    return {
        "status": record.status,
        "status_label": record.get_status_display(),
        "percent": percent,
        "doing": doing,
        "finished": record.is_finished,
    }


def ods_import_queue(*, practices_file, pcn_file=None, by: User) -> OdsImport:
    """Keep the uploaded files and queue their import for a worker."""
    from .ods_tasks import ods_import_task

    record = OdsImport(
        practices_file_name=practices_file.name[:200],
        pcn_file_name=pcn_file.name[:200] if pcn_file else "",
        started_by_label=by.email,
    )
    record.practices_file.save("epraccur.csv", practices_file, save=False)
    if pcn_file:
        record.pcn_file.save("pcns.csv", pcn_file, save=False)
    record.save()
    cache.set(
        progress_key(record.pk), {"percent": 0, "doing": "Waiting to start"}, PROGRESS_SECONDS
    )
    ods_import_task.delay_on_commit(record.pk)
    return record


def ods_import_stored(*, import_id: int) -> bool:
    """Run a queued import from its stored files (the Celery task). False
    when the file was refused: the row says why."""
    record = OdsImport.objects.get(pk=import_id)
    if record.is_finished:
        return True

    def progress(percent: int, doing: str) -> None:
        cache.set(progress_key(import_id), {"percent": percent, "doing": doing}, PROGRESS_SECONDS)

    with record.practices_file.open("rb") as handle:
        practices = handle.read()
    pcns = None
    if record.pcn_file:
        with record.pcn_file.open("rb") as handle:
            pcns = handle.read()
    try:
        ods_import_record(record=record, practices=practices, pcns=pcns, progress=progress)
    except OdsFileError:
        return False
    except Exception:
        OdsImport.objects.filter(pk=import_id).update(
            status=OdsImport.Status.FAILED,
            error="The import stopped with an unexpected error; nothing was changed. "
            "The error is in the logs.",
            finished_at=timezone.now(),
        )
        raise
    return True
