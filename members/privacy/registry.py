"""The privacy registry: every model that can hold a member's data, how the
member's rows are found, what goes into their export, and what erasure does
to them.

Each app declares its own models in its ``privacy.py`` with ``register``:
``members/privacy/holdings.py`` for the member's account, membership and
payments, ``accreditation/privacy.py`` and ``events/privacy.py`` for theirs.
``MembersConfig.ready()`` loads them all, lowest layer first.

``tests/members/test_privacy_registry.py`` walks every installed model and
fails naming any that can reach a member (a foreign key path to the user,
or an email or JSON field) but is neither here nor in ``NOT_PERSONAL``.

Order matters for erasure: rows are found before anything changes, then
each action runs in registry order, so evidence (with its files) goes
before the applications and CPD entries it belongs to, and the account
itself, with its trail, is anonymised last (``register(..., last=True)``).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, QuerySet

from members.models import User

from .actions import Anonymise, Custom, Delete, Keep


@dataclass(frozen=True)
class Holding:
    """One model's part in the member's data."""

    model: type[Model]
    rows: Callable[[User], QuerySet]
    erase: Delete | Anonymise | Keep | Custom
    # The archive's "<section>.json"; empty when the rows are not exported,
    # and then ``not_exported`` says why.
    section: str = ""
    about: str = ""
    not_exported: str = ""
    # Fields left out of the export: secrets, not personal data.
    exclude: frozenset[str] = frozenset()
    # File fields whose files are copied into the archive.
    files: tuple[str, ...] = ()
    # Trims one exported row (the member, the row, its data): for rows that
    # are the member's only in part, such as a staff member's actions on
    # other members' records.
    redact: Callable[[User, Model, dict], dict] | None = None

    @property
    def label(self) -> str:
        return self.model._meta.label

    @property
    def name(self) -> str:
        return str(self.model._meta.verbose_name_plural)


# Models that relate to a user but hold nothing about them, with the reason.
# The coverage test accepts these; everything else must be in REGISTRY. An
# app adds its own from its privacy.py: NOT_PERSONAL["app.Model"] = "why".
NOT_PERSONAL: dict[str, str] = {}

# Filled by ``register``, in erasure order; read it, never assign to it.
REGISTRY: list[Holding] = []
_first: list[Holding] = []
_last: list[Holding] = []


def register(*holdings: Holding, last: bool = False) -> None:
    """Add an app's holdings to the registry, after those added before.
    ``last`` holdings come after every app's: the account and the records
    about it, which erasure changes once everything else is done."""
    known = {holding.label for holding in REGISTRY}
    for holding in holdings:
        if holding.label in known:
            raise ImproperlyConfigured(f"{holding.label} is in the privacy registry twice.")
        known.add(holding.label)
    (_last if last else _first).extend(holdings)
    REGISTRY[:] = [*_first, *_last]


def holding_for(label: str) -> Holding:
    return next(holding for holding in REGISTRY if holding.label == label)


def personal_models_uncovered(registry: list[Holding] | None = None) -> list[str]:
    """Models that can hold a member's data but are neither in ``registry``
    nor in ``NOT_PERSONAL``.

    A model can hold a member's data when a foreign key or one-to-one
    field leads from it to the user, directly or through other such models
    (Evidence to Application to User), or when it has an email or JSON
    field (a visitor's registration, a payment provider's payload).
    """
    from django.db.models import EmailField, JSONField

    registry = REGISTRY if registry is None else registry
    every = apps.get_models(include_auto_created=True)
    reaching = {User}
    grew = True
    while grew:
        grew = False
        for model in every:
            if model in reaching:
                continue
            if any(
                field.concrete
                and (field.many_to_one or field.one_to_one)
                and field.related_model in reaching
                for field in model._meta.get_fields()
            ):
                reaching.add(model)
                grew = True
    for model in every:
        if any(isinstance(field, EmailField | JSONField) for field in model._meta.fields):
            reaching.add(model)
    covered = {holding.label for holding in registry} | set(NOT_PERSONAL)
    return sorted(model._meta.label for model in reaching if model._meta.label not in covered)
