"""The member's dashboard panel: open consultations they may answer."""

from members.panels import Panel, register_dashboard_panel

from .selectors import consultations_open_for


def _open_consultations(*, member, membership) -> dict | None:
    shown = consultations_open_for(user=member, kept=True)
    if not shown:
        return None
    return {"consultations": shown}


register_dashboard_panel(
    Panel(
        name="consultations",
        template="members/consultations/panel_dashboard.html",
        load=_open_consultations,
    )
)
