"""What erasure does to one model's rows: delete them, anonymise them, keep
them, or something particular to that model.

Each action gets the member's rows (found before anything changed) and the
``Erasing`` in progress, and returns how many rows it changed.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from members.models import User

ERASED_DOMAIN = "erased.invalid"
# For required text fields whose content went with the account.
ERASED_TEXT = "Removed when the member's account was erased."


def erased_email(user_id: int) -> str:
    """The placeholder address an erased account keeps: unique, and on a
    reserved domain (RFC 2606) that never receives mail."""
    return f"erased-{user_id}@{ERASED_DOMAIN}"


@dataclass
class Erasing:
    """One erasure in progress: the member as they were before it began,
    and the files to remove from storage once it commits."""

    user: User
    by: User
    email: str
    full_name: str
    phone: str
    snapshot: dict[str, list] = field(default_factory=dict)
    files: list = field(default_factory=list)

    def file_forget(self, fieldfile) -> None:
        if fieldfile:
            self.files.append((fieldfile.storage, fieldfile.name))


def _files_forget(rows: QuerySet, files: tuple[str, ...], erasing: Erasing) -> None:
    """Note the rows' stored files for removal after commit. The rows are
    locked first: a file being written meanwhile (a data export still
    being built) is seen once its row commits, not missed."""
    if files:
        for row in rows.select_for_update().only("pk", *files):
            for name in files:
                erasing.file_forget(getattr(row, name))


class Delete:
    """Delete the rows (and their stored files)."""

    def __init__(self, *, files: tuple[str, ...] = ()):
        self.files = files

    def describe(self) -> str:
        return "deleted"

    def apply(self, rows: QuerySet, erasing: Erasing) -> int:
        _files_forget(rows, self.files, erasing)
        deleted, _ = rows.delete()
        return deleted


class Anonymise:
    """Keep the rows; overwrite their personal fields (and remove stored
    files, which may show the member's name)."""

    def __init__(self, values: dict[str, Any], *, files: tuple[str, ...] = ()):
        self.values = values
        self.files = files

    def describe(self) -> str:
        fields = sorted(set(self.values) | set(self.files))
        return "kept; cleared: " + ", ".join(name.replace("_", " ") for name in fields)

    def apply(self, rows: QuerySet, erasing: Erasing) -> int:
        _files_forget(rows, self.files, erasing)
        return rows.update(**self.values, **dict.fromkeys(self.files, ""))


class Keep:
    """Keep the rows as they are: they hold nothing personal themselves."""

    def __init__(self, reason: str):
        self.reason = reason

    def describe(self) -> str:
        return f"kept: {self.reason}"

    def apply(self, rows: QuerySet, erasing: Erasing) -> int:
        return 0


class Custom:
    """An erasure particular to one model, described in words."""

    def __init__(self, function: Callable[[QuerySet, Erasing], int], description: str):
        self.function = function
        self.description = description

    def describe(self) -> str:
        return self.description

    def apply(self, rows: QuerySet, erasing: Erasing) -> int:
        return self.function(rows, erasing)
