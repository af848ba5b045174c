"""How the audit trail and the member timeline name what changed, as staff
know it ("Registration for NPM Day North West", "Payment INV-2026-0042",
"Data export"), never as a model name and an id.

An entry records its target as ``target_type`` (the model's name) and
``target_id``. Each app registers, from its own ``audit_names.py``, a
``Describer`` for the targets it owns: a ``label`` for the kind of thing,
and ``names(ids)``, a queryset annotated with ``audit_name``, built in
SQL. A page's describers are read together in one ``UNION ALL`` query, so a
page costs one query however many entries and kinds of record it shows. A
row that is gone (deleted, or with nothing to name it by) is called by its
label alone.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db.models import CharField, QuerySet, Value


@dataclass(frozen=True)
class Describer:
    target_type: str
    label: str
    names: Callable[[list[int]], QuerySet] | None = None


DESCRIBERS: dict[str, Describer] = {}


def register_describer(describer: Describer) -> Describer:
    if describer.target_type in DESCRIBERS:
        raise ImproperlyConfigured(f"Audit targets {describer.target_type!r} are described twice.")
    DESCRIBERS[describer.target_type] = describer
    return describer


def target_label(target_type: str) -> str:
    """The kind of thing, for the trail's "Record type" filter."""
    describer = DESCRIBERS.get(target_type)
    if describer:
        return describer.label
    # Not registered: the model's own verbose name, never its class name.
    for model in apps.get_models():
        if model._meta.model_name == target_type:
            return str(model._meta.verbose_name).capitalize()
    return target_type.replace("_", " ").capitalize()


def entries_describe(entries: Iterable) -> list:
    """Set ``target_name`` on each entry of a page, in one query."""
    entries = list(entries)
    wanted: dict[str, set[int]] = {}
    for entry in entries:
        wanted.setdefault(entry.target_type, set()).add(entry.target_id)
    parts = [
        describer.names(sorted(ids))
        .annotate(audit_kind=Value(target_type, output_field=CharField()))
        .values_list("audit_kind", "pk", "audit_name")
        for target_type, ids in sorted(wanted.items())
        if (describer := DESCRIBERS.get(target_type)) and describer.names
    ]
    names: dict[tuple[str, int], str] = {}
    if parts:
        rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
        names = {(kind, pk): name for kind, pk, name in rows if name}
    for entry in entries:
        entry.target_name = names.get((entry.target_type, entry.target_id)) or target_label(
            entry.target_type
        )
    return entries
