"""Accreditation's part of the demo data (``members.demo``): an issued
certificate for Amara, and her second application in the assessors'
queue."""

import datetime

from members.demo import STAFF_EMAIL, demo_pdf, register
from members.models import User

from . import services
from .models import Application, Pathway


@register
def accreditation_seed() -> None:
    """An issued certificate, and an application in the assessors' queue."""
    if Application.objects.exists():
        return
    member = User.objects.get(email="amara.okafor@example.org")
    staff = User.objects.get(email=STAFF_EMAIL)
    approved = services.application_start(
        user=member, pathway=Pathway.objects.get(slug="ilm-level-7")
    )
    services.application_update(
        application=approved,
        by=member,
        qualification_title="Level 7 Diploma in Leadership and Management",
        awarding_body="Institute of Leadership & Management",
        certificate_number="ILM-7-204411",
        date_achieved=datetime.date(2024, 7, 15),
    )
    services.evidence_add(application=approved, upload=demo_pdf("ilm-diploma.pdf"), by=member)
    services.application_submit(application=approved, by=member)
    services.application_assign(application=approved, assessor=staff)
    services.application_approve(application=approved, by=staff)

    waiting = services.application_start(
        user=member, pathway=Pathway.objects.get(slug="napc-diploma")
    )
    services.application_update(
        application=waiting,
        by=member,
        qualification_title="Diploma in Advanced Primary Care Management",
        awarding_body="National Association of Primary Care",
        certificate_number="NAPC-D-3391",
        date_achieved=datetime.date(2025, 9, 1),
    )
    services.evidence_add(application=waiting, upload=demo_pdf("napc-diploma.pdf"), by=member)
    services.application_submit(application=waiting, by=member)
