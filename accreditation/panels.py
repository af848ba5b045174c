"""Accreditation's panels on members' pages (``members.panels``): the
member's applications, certificates and CPD on the staff member record,
and their certificates on their dashboard."""

from django.db.models import Count, Sum

from members.panels import Panel, register_dashboard_panel, register_record_panel

from .models import Application, Certificate, CpdEntry

# The member record shows this many entries of a long CPD log; the rest are
# counted in the total.
CPD_SHOWN = 20


def _record_accreditation(*, member) -> dict:
    return {
        "applications": list(
            Application.objects.filter(applicant=member)
            .select_related("pathway", "assessor")
            .order_by("-created_at", "-pk")
        ),
        "certificates": list(
            Certificate.objects.filter(holder=member)
            .select_related("pathway")
            .order_by("-issued_on", "-pk")
        ),
    }


def _record_cpd(*, member) -> dict:
    cpd = CpdEntry.objects.filter(user=member)
    totals = cpd.aggregate(hours=Sum("hours"), count=Count("pk"))
    return {
        "entries": list(cpd.order_by("-date", "-pk")[:CPD_SHOWN]),
        "total_hours": totals["hours"] or 0,
        "count": totals["count"],
    }


def _dashboard_certificates(*, member, membership) -> dict | None:
    """The member's certificates, once they have applied to join: shown
    only when there is one."""
    if membership is None:
        return None
    certificates = list(Certificate.objects.filter(holder=member).select_related("pathway")[:5])
    return {"certificates": certificates} if certificates else None


register_record_panel(
    Panel(
        name="accreditation",
        template="accreditation/panels/record_accreditation.html",
        load=_record_accreditation,
        anchor="accreditation-heading",
        title="Accreditation",
    )
)
register_record_panel(
    Panel(
        name="cpd",
        template="accreditation/panels/record_cpd.html",
        load=_record_cpd,
        anchor="cpd-heading",
        title="CPD",
    )
)
register_dashboard_panel(
    Panel(
        name="accreditation",
        template="accreditation/panels/dashboard.html",
        load=_dashboard_certificates,
    )
)
