"""The audit trail and the member timeline name what changed as staff know
it, from each app's ``audit_names.py``, never as a model name and an id."""

import re

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from members.audit import audit_record
from members.backoffice.naming import DESCRIBERS, entries_describe
from members.models import AuditEntry
from members.privacy.services import data_export_request
from tests.factories import active_member, event, member_registration, team_member

pytestmark = pytest.mark.django_db

# What the services audit today (grep "target=" beside audit_record).
AUDITED = {
    "payment",
    "membership",
    "application",
    "certificate",
    "event",
    "registration",
    "dataexport",
    "erasurerequest",
}


def test_every_audited_kind_of_record_has_a_name():
    assert set(DESCRIBERS) >= AUDITED
    model_names = {model._meta.model_name for model in apps.get_models()}
    assert set(DESCRIBERS) <= model_names, "a describer names no installed model"


def _world():
    member = active_member()
    payment = member.membership.payments.get()
    payment.invoice_number = "INV-2026-0042"
    payment.save(update_fields=["invoice_number"])
    member.membership.number = "IGPM-004217"
    member.membership.save(update_fields=["number"])
    registration = member_registration(event(title="NPM Day North West"), member)
    audit_record(actor=member, subject=member, target=registration, action="cancelled")
    audit_record(actor=member, subject=member, target=payment, action="invoice_sent")
    data_export_request(user=member)
    return member, payment, registration


def _shown(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_trail_and_the_timeline_name_things_as_staff_know_them(client):
    member, payment, registration = _world()
    client.force_login(team_member("Administrators"))
    for url in (
        reverse("members:staff_audit"),
        reverse("members:staff_member", args=[member.pk]) + "#timeline",
    ):
        text = _shown(client.get(url).content.decode())
        assert "Registration for NPM Day North West" in text, url
        assert "Payment INV-2026-0042" in text, url
        assert "Data export" in text, url
        assert "Membership IGPM-004217" in text, url
        for raw in (
            f"registration {registration.pk}",
            f"payment {payment.pk}",
            "dataexport",
        ):
            assert raw not in text, f"{url} shows {raw!r}"


def test_the_record_type_filter_offers_names():
    _world()
    client_html = _filter_options()
    assert "Event registration" in client_html
    assert "Data export" in client_html
    assert ">dataexport<" not in client_html


def _filter_options() -> str:
    from members.backoffice.forms import AuditFilterForm
    from members.backoffice.selectors import audit_filter_choices

    actions, target_types = audit_filter_choices()
    form = AuditFilterForm(actions=actions, target_types=target_types)
    return str(form["target_type"])


def test_a_record_that_is_gone_is_called_by_its_kind():
    entry = AuditEntry.objects.create(
        actor_label="system", target_type="registration", target_id=987654, action="purged"
    )
    [described] = entries_describe([entry])
    assert described.target_name == "Event registration"


def test_naming_a_page_costs_one_query_however_much_is_on_it():
    """One payment entry costs one query; fifty about payments, memberships,
    registrations and exports cost the same."""
    member, payment, _ = _world()
    one = list(AuditEntry.objects.filter(target_type="payment"))[:1]
    with CaptureQueriesContext(connection) as few:
        entries_describe(one)
    for n in range(50):
        audit_record(actor=member, subject=member, target=payment, action=f"note_{n}")
    many = list(AuditEntry.objects.all())
    assert len(many) > 50
    assert len({entry.target_type for entry in many}) == 4
    with CaptureQueriesContext(connection) as lots:
        described = entries_describe(many)
    assert len(lots) == len(few) == 1
    assert {entry.target_name for entry in described} == {
        "Payment INV-2026-0042",
        "Membership IGPM-004217",
        "Registration for NPM Day North West",
        "Data export",
    }
