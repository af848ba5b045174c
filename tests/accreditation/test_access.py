"""Who may see and do what in accreditation."""

import re

import pytest
from django.urls import reverse

from accreditation.models import Application, Evidence
from accreditation.services import application_approve, application_assign
from tests.accreditation.test_applications import submitted_application
from tests.factories import StaffFactory, active_member, assessor

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(client, pathway):
    """Member A's submitted application with evidence, approved."""
    application = submitted_application(client, pathway)
    reviewer = assessor()
    application_assign(application=application, assessor=reviewer)
    certificate = application_approve(application=application, by=reviewer)
    evidence = Evidence.objects.get(application=application)
    client.logout()
    return {"application": application, "certificate": certificate, "evidence": evidence}


def member_urls(world):
    return [
        reverse("accreditation:application", args=[world["application"].pk]),
        reverse("accreditation:evidence_download", args=[world["evidence"].pk]),
        reverse("accreditation:certificate_pdf", args=[world["certificate"].pk]),
    ]


def test_member_b_cannot_see_member_a_s_things(client, world):
    client.force_login(active_member())
    for url in member_urls(world):
        assert client.get(url).status_code == 404, url
    for name, arg in [
        ("accreditation:withdraw", world["application"].pk),
        ("accreditation:evidence_delete", world["evidence"].pk),
        ("accreditation:revalidate", world["certificate"].pk),
        ("accreditation:certificate_listing", world["certificate"].pk),
    ]:
        assert client.post(reverse(name, args=[arg]), {"listed": "yes"}).status_code == 404
    assert Application.objects.get(pk=world["application"].pk).status == "approved"


def test_anonymous_visitors_see_only_public_pages(client, world):
    for url in [
        *member_urls(world),
        reverse("accreditation:overview"),
        reverse("accreditation:cpd"),
        reverse("accreditation:staff_queue"),
        reverse("accreditation:staff_review", args=[world["application"].pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("account_login"))
    for url in [
        reverse("accreditation:verify", args=[world["certificate"].verification_code]),
        reverse("accreditation:verify_search"),
        reverse("accreditation:pathways"),
        reverse("accreditation:register"),
    ]:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize(
    ("method", "name", "arg"),
    [
        ("get", "accreditation:staff_queue", None),
        ("get", "accreditation:staff_review", "application"),
        ("post", "accreditation:staff_assign", "application"),
        ("post", "accreditation:staff_decide", "application"),
        ("post", "accreditation:staff_revoke", "certificate"),
    ],
)
def test_staff_outside_the_assessors_cannot_review(client, world, method, name, arg):
    url = reverse(name, args=[world[arg].pk] if arg else [])
    client.force_login(StaffFactory(mfa=True))
    assert getattr(client, method)(url, {"decision": "reject", "reason": "x"}).status_code == 403
    client.force_login(world["application"].applicant)
    assert getattr(client, method)(url, {"reason": "x"}).status_code == 403
    assert world["certificate"].__class__.objects.get().status == "valid"


def test_staff_outside_the_assessors_cannot_open_evidence(client, world):
    client.force_login(StaffFactory(mfa=True))
    url = reverse("accreditation:evidence_download", args=[world["evidence"].pk])
    assert client.get(url).status_code == 404


def test_assessors_open_evidence(client, world):
    client.force_login(assessor())
    url = reverse("accreditation:evidence_download", args=[world["evidence"].pk])
    assert client.get(url).status_code == 200


def test_drafts_are_private_even_from_assessors(client, pathway):
    client.force_login(active_member())
    client.post(reverse("accreditation:apply"), {"pathway": pathway.pk})
    draft = Application.objects.get()
    client.force_login(assessor())
    assert client.get(reverse("accreditation:staff_review", args=[draft.pk])).status_code == 403


def test_the_queue_ignores_a_pathway_filter_that_is_no_choice(client):
    client.force_login(assessor())
    url = reverse("accreditation:staff_queue")
    # "²" and "①" pass str.isdigit() but int() refuses them.
    for odd in ("²", "①", "-1", "9" * 30):
        response = client.get(url, {"pathway": odd})
        assert response.status_code == 200, odd
        # No pathway shown chosen, and none filtered by.
        assert not re.search(r'<option value="\d+" selected>', response.content.decode()), odd
