"""What one register row means, and what importing it would do.

``row_clean`` turns the text of a row into values (or says what is wrong
with it, every problem at once); ``rows_judge`` compares a batch of clean
rows with the database in two queries and says, for each, create, update,
no change or error. The dry run and the import call the same judge, so
what the import does is what the dry run said, unless the database changed
in between (then the import refuses that row and says why).
"""

import datetime
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models.functions import Lower

from members.billing.services.numbers import membership_number_format, membership_number_parse
from members.models import ODS_PRACTICE_CODE, Grade, Membership, User

DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d %B %Y", "%d %b %Y")
YES = {"yes", "y", "true", "1", "x"}
NO = {"no", "n", "false", "0", ""}
# The fields a corrected file may change, and the label staff read.
COMPARED = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "grade": "Grade",
    "first_joined": "First joined",
    "paid_up_until": "Paid up until",
    "ods_code": "ODS code",
    "phone": "Phone",
    "marketing_consent": "Marketing consent",
    "consultation_consent": "Consultations consent",
}
PROFILE_FIELDS = ("ods_code", "phone", "marketing_consent", "consultation_consent")


@dataclass
class Clean:
    line: int
    first_name: str
    last_name: str
    email: str
    number: int
    grade: Grade
    first_joined: datetime.date
    paid_up_until: datetime.date
    ods_code: str = ""
    phone: str = ""
    marketing_consent: bool = False
    consultation_consent: bool = False
    # Optional columns the file has: only those are compared and written.
    present: frozenset = frozenset()

    @property
    def number_text(self) -> str:
        return membership_number_format(self.number)

    def shown(self, name: str):
        value = self.grade.name if name == "grade" else getattr(self, name)
        return _shown(value)


def _shown(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return "" if value is None else str(value)


@dataclass
class Verdict:
    action: str
    errors: list[str] = field(default_factory=list)
    changes: dict[str, list[str]] = field(default_factory=dict)
    user_id: int | None = None


def grades_by_name() -> dict[str, Grade]:
    grades = {}
    for grade in Grade.objects.all():
        grades[grade.name.lower()] = grade
        grades[grade.slug.lower()] = grade
    return grades


_DAY_FIRST = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def parse_date(text: str) -> datetime.date | None:
    text = text.strip()
    # The usual shapes without strptime (a register has tens of thousands).
    if match := _ISO.match(text):
        year, month, day = map(int, match.groups())
    elif match := _DAY_FIRST.match(text):
        day, month, year = map(int, match.groups())
    else:
        year = None
    if year is not None:
        try:
            return datetime.date(year, month, day)
        except ValueError:
            return None
    for pattern in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    return None


def _consent(text: str) -> bool | None:
    text = text.strip().lower()
    if text in YES:
        return True
    if text in NO:
        return False
    return None


def row_clean(
    *, line: int, values: dict[str, str], grades: dict[str, Grade]
) -> tuple[Clean | None, list[str]]:
    """The row's values, or every reason it cannot be imported."""
    errors = []
    if values.get("_extra"):
        errors.append("The row has more cells than the header has columns.")
    first, last = values.get("first_name", ""), values.get("last_name", "")
    if values.get("name") and not (first or last):
        first, _, last = values["name"].strip().rpartition(" ")
        if not first:
            first, last = last, ""
    if not (first or last):
        errors.append("Name: the name is missing.")
    if len(first) > 100 or len(last) > 100:
        errors.append("Name: a first or last name longer than 100 characters.")

    email = User.objects.normalize_email(values.get("email", ""))
    if not email:
        errors.append("Email: the email address is missing.")
    else:
        try:
            validate_email(email)
        except ValidationError:
            errors.append(f"Email: \u201c{values['email']}\u201d is not an email address.")

    number = membership_number_parse(values.get("number", ""))
    if number is None:
        errors.append(
            f"Membership number: \u201c{values.get('number', '')}\u201d is not a membership "
            "number (digits, optionally after IGPM-, like IGPM-001234)."
        )

    grade = grades.get(values.get("grade", "").strip().lower())
    if grade is None:
        known = sorted({g.name for g in grades.values()})
        errors.append(
            f"Grade: \u201c{values.get('grade', '')}\u201d is not a grade. The grades are: "
            + ", ".join(known)
            + "."
        )

    dates = {}
    for name, label in (("first_joined", "First joined"), ("paid_up_until", "Paid up until")):
        text = values.get(name, "")
        dates[name] = parse_date(text) if text else None
        if not text:
            errors.append(f"{label}: the date is missing.")
        elif dates[name] is None:
            errors.append(
                f"{label}: \u201c{text}\u201d is not a date. Write it as 31/01/2024 or 2024-01-31."
            )
    joined, paid_up = dates["first_joined"], dates["paid_up_until"]
    if joined and paid_up and paid_up < joined:
        errors.append("Paid up until: the date is before the date they first joined.")

    ods = values.get("ods_code", "").strip().upper()
    if ods and not ODS_PRACTICE_CODE.match(ods):
        errors.append(
            f"Organisation ODS code: \u201c{values['ods_code']}\u201d is not an ODS code "
            "(one letter then five digits, like A81001)."
        )
    phone = values.get("phone", "").strip()
    if len(phone) > 32:
        errors.append("Phone: longer than 32 characters.")

    consents = {}
    for name, label in (
        ("marketing_consent", "Marketing consent"),
        ("consultation_consent", "Consultations consent"),
    ):
        consents[name] = _consent(values.get(name, ""))
        if consents[name] is None:
            errors.append(f"{label}: \u201c{values[name]}\u201d is not yes or no.")

    if errors:
        return None, errors
    return (
        Clean(
            line=line,
            first_name=first.strip(),
            last_name=last.strip(),
            email=email,
            number=number,
            grade=grade,
            first_joined=dates["first_joined"],
            paid_up_until=dates["paid_up_until"],
            ods_code=ods,
            phone=phone,
            present=frozenset(values) & set(PROFILE_FIELDS),
            **consents,
        ),
        [],
    )


def duplicates_find(cleans: list[Clean]) -> dict[int, list[str]]:
    """Errors for rows whose email or number another row of the file has."""
    by_email: dict[str, list[int]] = {}
    by_number: dict[int, list[int]] = {}
    for clean in cleans:
        by_email.setdefault(clean.email, []).append(clean.line)
        by_number.setdefault(clean.number, []).append(clean.line)
    errors: dict[int, list[str]] = {}
    for groups, label in ((by_email, "Email"), (by_number, "Membership number")):
        for lines in groups.values():
            if len(lines) < 2:
                continue
            for line in lines:
                others = ", ".join(str(other) for other in lines if other != line)
                errors.setdefault(line, []).append(
                    f"{label}: the same {label.lower()} is also on row {others}."
                )
    return errors


def rows_judge(cleans: list[Clean]) -> dict[int, Verdict]:
    """Each clean row against the database: two queries for the batch."""
    memberships = {
        m.number: m
        for m in Membership.objects.filter(
            number__in=[c.number_text for c in cleans]
        ).select_related("grade", "user__profile", "user__imported__period")
    }
    users = {
        row["lower"]: row
        for row in User.objects.annotate(lower=Lower("email"))
        .filter(lower__in=[c.email for c in cleans])
        .values("pk", "lower", "imported__user_id", "membership__number")
    }
    return {clean.line: _judge(clean, memberships, users) for clean in cleans}


def _judge(clean: Clean, memberships: dict, users: dict) -> Verdict:
    membership = memberships.get(clean.number_text)
    owner = users.get(clean.email)
    if membership is None:
        if owner is None:
            return Verdict("create")
        if owner["imported__user_id"] and owner["membership__number"]:
            return Verdict(
                "error",
                [
                    f"Email: already imported with membership number "
                    f"{owner['membership__number']}, not {clean.number_text}."
                ],
            )
        return Verdict(
            "error",
            [
                "Email: someone with this email already has an account on the portal; "
                "leave this row out and update their record by hand."
            ],
        )
    user = membership.user
    imported = getattr(user, "imported", None)
    if imported is None:
        return Verdict(
            "error",
            [
                f"Membership number: {clean.number_text} is already used by someone else "
                "(a member who joined on the portal)."
            ],
        )
    if owner is not None and owner["pk"] != user.pk:
        return Verdict(
            "error", ["Email: someone else on the portal already has this email address."]
        )
    current = _current(membership, imported)
    changes = {}
    for name in COMPARED:
        if name in PROFILE_FIELDS and name not in clean.present:
            continue
        old, new = current[name], clean.shown(name)
        if old != new:
            changes[name] = [old, new]
    errors = []
    if "email" in changes and imported.claimed_at is not None:
        errors.append(
            "Email: the member has claimed their account, so the address is theirs to "
            "change (from their account page)."
        )
    if {"paid_up_until", "first_joined"} & set(
        changes
    ) and membership.expires_on != imported.period.ends_on:
        errors.append(
            "Paid up until: the member has paid on the portal since the import, so the "
            "dates of their imported year are kept."
        )
    if membership.status == Membership.Status.CANCELLED and changes:
        errors.append("Membership number: the membership was cancelled; it is not updated.")
    if errors:
        return Verdict("error", errors, changes, user.pk)
    return Verdict("update" if changes else "unchanged", [], changes, user.pk)


def _current(membership: Membership, imported) -> dict[str, str]:
    user = membership.user
    profile = getattr(user, "profile", None)
    return {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "grade": membership.grade.name,
        "first_joined": _shown(imported.first_joined_on),
        "paid_up_until": _shown(membership.expires_on),
        **{name: _shown(getattr(profile, name, "")) for name in PROFILE_FIELDS},
    }
