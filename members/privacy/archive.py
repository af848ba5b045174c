"""The "Download my data" archive: a ZIP with one JSON file per section of
the registry, the member's files, and a README.txt explaining them."""

import json
import os
import shutil
import zipfile
from typing import BinaryIO

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import FileField, Model
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import get_valid_filename

from members.models import User

from .registry import REGISTRY, Holding


def row_export(holding: Holding, row: Model) -> dict:
    """A row as JSON-ready data: every stored column but the excluded
    secrets, foreign keys as ids, choices with their labels too."""
    data = {}
    for field in row._meta.concrete_fields:
        if field.name in holding.exclude:
            continue
        value = field.value_from_object(row)
        if isinstance(field, FileField):
            value = value.name or ""
        data[field.attname] = value
        if field.choices and value not in (None, ""):
            data[f"{field.name}_label"] = str(dict(field.flatchoices).get(value, value))
    return data


def _row_for(user: User, holding: Holding, row: Model) -> dict:
    data = row_export(holding, row)
    return holding.redact(user, row, data) if holding.redact else data


def _archive_name(row: Model, fieldfile) -> str:
    given = getattr(row, "original_name", "") or os.path.basename(fieldfile.name)
    return f"{row.pk}-{get_valid_filename(given)}"


def archive_write(*, user: User, out: BinaryIO) -> dict[str, int]:
    """Write the member's archive to ``out``; return how many rows each
    section holds."""
    counts: dict[str, int] = {}
    missing: list[str] = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for holding in REGISTRY:
            if not holding.section:
                continue
            rows = list(holding.rows(user).order_by("pk"))
            counts[holding.section] = len(rows)
            archive.writestr(
                f"{holding.section}.json",
                json.dumps(
                    [_row_for(user, holding, row) for row in rows],
                    cls=DjangoJSONEncoder,
                    indent=2,
                    ensure_ascii=False,
                ),
            )
            for row in rows:
                for name in holding.files:
                    fieldfile = getattr(row, name)
                    if not fieldfile:
                        continue
                    path = f"files/{holding.section}/{_archive_name(row, fieldfile)}"
                    try:
                        with fieldfile.open("rb") as source, archive.open(path, "w") as target:
                            shutil.copyfileobj(source, target)
                    except FileNotFoundError:
                        missing.append(path)
        archive.writestr(
            "README.txt",
            render_to_string(
                "members/privacy/archive_readme.txt",
                {
                    "user": user,
                    "made_at": timezone.localtime(),
                    "sections": [
                        (holding, counts[holding.section])
                        for holding in REGISTRY
                        if holding.section
                    ],
                    "not_exported": [holding for holding in REGISTRY if not holding.section],
                    "missing": missing,
                },
            ),
        )
    return counts
