"""Panels that the apps above members add to members' pages about one
member: the staff member record (``/staff/members/<id>/``) and the
member's own dashboard.

Each app registers its panels from its own ``panels.py``; the page shows
its own sections, then every registered panel in order (members' first,
then each app in INSTALLED_APPS order). A panel's ``load`` runs its queries
for the member, a fixed number however much the member has done, and
returns its template's context, under the name ``panel``; ``None`` leaves
the panel out.

- ``register_record_panel``: ``load(member=user)``, for staff.
- ``register_dashboard_panel``: ``load(member=user, membership=m)``, where
  ``membership`` may be ``None``.

A panel that has nothing to show for a member without rows of some kind
(most members hold no organisation seat) gives ``shown_if``: the member's
condition for having them, an ``Exists`` or a ``Q`` of them, from
``shown_if(member_id=..., today=...)``. The conditions of all the page's
panels are read in one query, compiled once per process (``igpm.compiled``:
the two arguments must reach the SQL only as its parameters), and a panel
whose condition does not hold shows ``empty`` (or is left out, if ``empty``
is ``None``) without running ``load``.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db.models import BooleanField, Expression, ExpressionWrapper, Q
from django.utils import timezone

from igpm.compiled import STAND_IN_DATE, STAND_IN_ID, CompiledQuery
from members.models import User


@dataclass(frozen=True)
class Panel:
    name: str
    template: str
    load: Callable[..., dict | None]
    # Its heading's id and text, for the record's "On this page" links.
    anchor: str = ""
    title: str = ""
    shown_if: Callable[..., Expression | Q] | None = None
    empty: dict | None = None


@dataclass(frozen=True)
class ShownPanel:
    panel: Panel
    context: dict

    @property
    def template(self) -> str:
        return self.panel.template


# Filled by the register functions, in the order the pages show them.
RECORD_PANELS: list[Panel] = []
DASHBOARD_PANELS: list[Panel] = []


def _register(panels: list[Panel], panel: Panel) -> Panel:
    if any(known.name == panel.name for known in panels):
        raise ImproperlyConfigured(f"The {panel.name} panel is registered twice.")
    panels.append(panel)
    return panel


def register_record_panel(panel: Panel) -> Panel:
    return _register(RECORD_PANELS, panel)


def register_dashboard_panel(panel: Panel) -> Panel:
    return _register(DASHBOARD_PANELS, panel)


# The conditions query of each set of conditional panels.
_CONDITIONS: dict[tuple, CompiledQuery] = {}


def _conditions_query(conditional: list[Panel]) -> CompiledQuery:
    key = tuple((panel.name, panel.shown_if) for panel in conditional)
    query = _CONDITIONS.get(key)
    if query is None:

        def build(*, member_id, today):
            return User.objects.filter(pk=member_id).values(
                **{
                    f"shown_{panel.name}": ExpressionWrapper(
                        panel.shown_if(member_id=member_id, today=today),
                        output_field=BooleanField(),
                    )
                    for panel in conditional
                }
            )

        query = _CONDITIONS[key] = CompiledQuery(build, member_id=STAND_IN_ID, today=STAND_IN_DATE)
    return query


def _conditions_hold(panels: list[Panel], about: dict) -> dict[str, bool]:
    """Each conditional panel's ``shown_if`` for the member, by name, in one
    query however many panels have one (none if no panel has one)."""
    conditional = [panel for panel in panels if panel.shown_if is not None]
    if not conditional:
        return {}
    rows = _conditions_query(conditional).rows(
        member_id=about["member"].pk, today=timezone.localdate()
    )
    row = rows[0] if rows else {}
    return {panel.name: bool(row.get(f"shown_{panel.name}")) for panel in conditional}


def panels_load(panels: list[Panel], **about) -> list[ShownPanel]:
    """Each panel with its context for one member, leaving out those with
    nothing to show."""
    holds = _conditions_hold(panels, about)
    shown = []
    for panel in panels:
        context = panel.load(**about) if holds.get(panel.name, True) else panel.empty
        if context is not None:
            shown.append(ShownPanel(panel, context))
    return shown
