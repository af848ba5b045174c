"""Being told before applying, the submission receipt, the assessor's next
application and the evidence preview."""

import pytest
from django.core import mail
from django.urls import reverse

from accreditation.models import Application, Evidence
from accreditation.services import application_assign
from members.models import Membership
from tests.accreditation.conftest import PDF
from tests.accreditation.test_applications import DETAILS, submitted_application
from tests.factories import MembershipFactory, ProfileFactory, active_member, assessor

pytestmark = pytest.mark.django_db

PAGES = ["accreditation:overview", "accreditation:apply"]


@pytest.mark.parametrize("name", PAGES)
def test_someone_with_no_membership_is_told_to_join_before_choosing(client, pathway, name):
    client.force_login(ProfileFactory().user)
    html = client.get(reverse(name)).content.decode()
    assert "Accreditation is for IGPM members in good standing" in html
    assert f'href="{reverse("members:join")}">Join the IGPM' in html
    assert 'name="pathway"' not in html
    assert reverse("accreditation:apply") + '">Start an application' not in html


@pytest.mark.parametrize("name", PAGES)
def test_a_lapsed_member_is_told_to_renew(client, pathway, name):
    user = active_member()
    Membership.objects.filter(user=user).update(status=Membership.Status.LAPSED)
    client.force_login(user)
    html = client.get(reverse(name)).content.decode()
    assert "Your membership has lapsed" in html
    assert f'href="{reverse("members:join")}">Renew your membership' in html
    assert 'name="pathway"' not in html


def test_a_member_awaiting_payment_is_sent_to_pay(client, pathway):
    membership = MembershipFactory(status=Membership.Status.AWAITING_PAYMENT)
    client.force_login(membership.user)
    html = client.get(reverse("accreditation:apply")).content.decode()
    assert f'href="{reverse("members:pay")}">Pay for your membership' in html


def test_posting_a_pathway_without_good_standing_starts_nothing(client, pathway):
    client.force_login(ProfileFactory().user)
    response = client.post(reverse("accreditation:apply"), {"pathway": pathway.pk})
    assert "members in good standing" in response.content.decode()
    assert not Application.objects.exists()


def test_a_member_in_good_standing_sees_the_pathways_and_no_warning(client, pathway):
    client.force_login(active_member())
    for name in PAGES:
        html = client.get(reverse(name)).content.decode()
        assert "Accreditation is for IGPM members in good standing" not in html, name
    assert 'name="pathway"' in client.get(reverse("accreditation:apply")).content.decode()


def test_submitting_sends_a_receipt_and_resubmitting_another(
    client, pathway, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        application = submitted_application(client, pathway)
    receipts = [m for m in mail.outbox if "received your IGPM accreditation" in m.subject]
    assert len(receipts) == 1
    assert receipts[0].to == [application.applicant.email]
    assert pathway.name in receipts[0].body
    assert reverse("accreditation:application", args=[application.pk]) in receipts[0].body

    reviewer = assessor()
    application_assign(application=application, assessor=reviewer)
    client.force_login(reviewer)
    client.post(
        reverse("accreditation:staff_decide", args=[application.pk]),
        {"decision": "more_info", "reason": "Add the transcript."},
    )
    client.force_login(application.applicant)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("accreditation:application", args=[application.pk]),
            {**DETAILS, "submit": "1"},
        )
    receipts = [m for m in mail.outbox if "received your IGPM accreditation" in m.subject]
    assert len(receipts) == 2


def test_a_draft_saved_sends_no_receipt(client, pathway, django_capture_on_commit_callbacks):
    client.force_login(active_member())
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accreditation:apply"), {"pathway": pathway.pk})
        application = Application.objects.get()
        client.post(
            reverse("accreditation:application", args=[application.pk]),
            {"qualification_title": "Diploma"},
        )
    assert mail.outbox == []


def _decide(client, application, decision="reject"):
    client.post(reverse("accreditation:staff_assign", args=[application.pk]))
    return client.post(
        reverse("accreditation:staff_decide", args=[application.pk]),
        {"decision": decision, "reason": "Not enough evidence."},
    )


def test_a_decision_leads_to_the_next_application_then_the_queue(client, pathway):
    first = submitted_application(client, pathway)
    taken = submitted_application(client, pathway)
    second = submitted_application(client, pathway)
    application_assign(application=taken, assessor=assessor())
    reviewer = assessor()
    client.force_login(reviewer)

    response = _decide(client, first)
    # The one taken by another assessor is passed over.
    assert response["Location"] == reverse("accreditation:staff_review", args=[second.pk])
    page = client.get(response["Location"]).content.decode()
    assert "This is the next application in the queue." in page

    response = _decide(client, second)
    assert response["Location"] == reverse("accreditation:staff_queue")
    page = client.get(response["Location"]).content.decode()
    assert "No other application is waiting for a decision." in page


def test_the_next_application_is_the_oldest_waiting(client, pathway):
    older = submitted_application(client, pathway)
    newer = submitted_application(client, pathway)
    client.force_login(assessor())
    response = _decide(client, newer)
    assert response["Location"] == reverse("accreditation:staff_review", args=[older.pk])


@pytest.fixture
def evidence(client, pathway):
    application = submitted_application(client, pathway)
    client.logout()
    return Evidence.objects.get(application=application)


def _inline(evidence):
    return reverse("accreditation:evidence_inline", args=[evidence.pk])


def test_the_applicant_sees_their_pdf_inline(client, evidence):
    client.force_login(evidence.application.applicant)
    response = client.get(_inline(evidence))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline;")
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content) == PDF


def test_an_assessor_sees_the_evidence_inline_and_a_preview_on_the_review_page(client, evidence):
    client.force_login(assessor())
    response = client.get(_inline(evidence))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("inline;")
    review = reverse("accreditation:staff_review", args=[evidence.application_id])
    html = client.get(review).content.decode()
    assert f'<iframe class="evidence-preview__frame" src="{_inline(evidence)}"' in html
    assert 'title="Preview of diploma.pdf"' in html


def test_an_image_preview_is_an_img(client, evidence):
    Evidence.objects.filter(pk=evidence.pk).update(content_type="image/png")
    client.force_login(assessor())
    review = reverse("accreditation:staff_review", args=[evidence.application_id])
    html = client.get(review).content.decode()
    assert f'<img class="evidence-preview__image" src="{_inline(evidence)}"' in html
    assert "<iframe" not in html
    response = client.get(_inline(evidence))
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline;")


def test_another_member_and_other_staff_get_nothing(client, evidence):
    from tests.factories import StaffFactory

    for user in (active_member(), StaffFactory(mfa=True)):
        client.force_login(user)
        assert client.get(_inline(evidence)).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, evidence):
    response = client.get(_inline(evidence))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_an_assessor_without_two_factor_is_sent_to_set_it_up(client, evidence):
    from django.contrib.auth.models import Group

    from tests.factories import StaffFactory

    assessor()  # creates the team with its permissions
    reviewer = StaffFactory(mfa=False)
    reviewer.groups.add(Group.objects.get(name="Accreditation assessors"))
    client.force_login(reviewer)
    response = client.get(_inline(evidence))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


def test_a_type_the_portal_did_not_verify_is_only_ever_a_download(client, evidence):
    Evidence.objects.filter(pk=evidence.pk).update(content_type="text/html")
    client.force_login(evidence.application.applicant)
    response = client.get(_inline(evidence))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/octet-stream"
    assert response.get("X-Frame-Options") != "SAMEORIGIN"


CSP = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
}


def test_only_the_inline_file_may_be_framed_by_the_portal(settings, evidence):
    from django.test import Client

    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "csp.middleware.CSPMiddleware"]
    settings.CONTENT_SECURITY_POLICY = CSP
    client = Client()  # loads the middleware above
    client.force_login(evidence.application.applicant)
    inline = client.get(_inline(evidence))["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in inline
    assert "'none'" in inline  # object-src is untouched
    download = client.get(reverse("accreditation:evidence_download", args=[evidence.pk]))
    assert "frame-ancestors 'none'" in download["Content-Security-Policy"]
    page = client.get(reverse("accreditation:overview"))
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]
