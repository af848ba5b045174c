"""Applying, reviewing, certificates, revocation and verification."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils.html import escape

from accreditation.models import Application, Certificate, CpdEntry, Evidence
from accreditation.notices import certificate_notices_send, certificate_notices_sweep
from accreditation.services import (
    AccreditationError,
    IllegalTransition,
    application_approve,
    application_assign,
    revalidation_apply,
)
from members.models import AuditEntry
from tests.accreditation.conftest import PDF, upload
from tests.factories import ProfileFactory, active_member, assessor

pytestmark = pytest.mark.django_db

DETAILS = {
    "qualification_title": "Level 7 Diploma in Leadership and Management",
    "awarding_body": "ILM",
    "certificate_number": "ILM-778812",
    "date_achieved": "2024-07-15",
}


def submitted_application(client, pathway, user=None) -> Application:
    user = user or active_member()
    client.force_login(user)
    client.post(reverse("accreditation:apply"), {"pathway": pathway.pk})
    application = Application.objects.filter(applicant=user).latest("pk")
    url = reverse("accreditation:application", args=[application.pk])
    client.post(
        reverse("accreditation:application", args=[application.pk]),
        {"evidence-file": upload("diploma.pdf", PDF), "upload": "1"},
    )
    response = client.post(url, {**DETAILS, "submit": "1"})
    assert response.status_code == 302, response.content.decode()[:2000]
    application.refresh_from_db()
    return application


def test_only_members_in_good_standing_may_apply(client, pathway):
    client.force_login(ProfileFactory().user)
    response = client.post(reverse("accreditation:apply"), {"pathway": pathway.pk})
    assert response.status_code == 200
    assert "members in good standing" in response.content.decode()
    assert not Application.objects.exists()


def test_draft_saves_comes_back_and_submit_lists_what_is_missing(client, pathway):
    user = active_member()
    client.force_login(user)
    client.post(reverse("accreditation:apply"), {"pathway": pathway.pk})
    application = Application.objects.get(applicant=user)
    url = reverse("accreditation:application", args=[application.pk])

    client.post(url, {"qualification_title": "Level 7 Diploma"})
    application.refresh_from_db()
    assert application.status == "draft"
    assert application.qualification_title == "Level 7 Diploma"
    assert 'value="Level 7 Diploma"' in client.get(url).content.decode()

    response = client.post(url, {"qualification_title": "Level 7 Diploma", "submit": "1"})
    assert response.status_code == 400
    html = response.content.decode()
    for field in ("awarding_body", "certificate_number", "date_achieved", "evidence-file"):
        assert f'id="id_{field}_error"' in html, field
    assert "Upload at least one file of evidence." in html
    assert 'value="Level 7 Diploma"' in html
    application.refresh_from_db()
    assert application.status == "draft"


def test_experiential_route_needs_roles_and_two_referees(client, experiential):
    user = active_member()
    client.force_login(user)
    client.post(reverse("accreditation:apply"), {"pathway": experiential.pk})
    application = Application.objects.get(applicant=user)
    url = reverse("accreditation:application", args=[application.pk])
    response = client.post(url, {"roles_held": "Practice Manager, 2015 to now", "submit": "1"})
    html = response.content.decode()
    assert "Give your second referee&#x27;s name." in html
    assert "qualification_title" not in html


def test_submit_assign_approve_issues_a_certificate_and_emails(
    client, pathway, django_capture_on_commit_callbacks
):
    application = submitted_application(client, pathway)
    assert application.status == "submitted"
    reviewer = assessor()
    client.force_login(reviewer)
    queue = client.get(reverse("accreditation:staff_queue")).content.decode()
    assert escape(application.applicant.get_full_name()) in queue

    client.post(reverse("accreditation:staff_assign", args=[application.pk]))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accreditation:staff_decide", args=[application.pk]),
            {"decision": "approve", "reason": ""},
        )
    assert response.status_code == 302
    certificate = Certificate.objects.get(application=application)
    today = datetime.date.today()
    assert certificate.number == f"IGPM-ACC-{today:%Y}-{certificate.pk:05d}"
    assert len(certificate.verification_code) >= 32
    assert certificate.expires_on.year == today.year + 3
    assert certificate.pdf.name.endswith(f"{certificate.number}.pdf")
    assert "approved" in mail.outbox[-1].subject
    actions = list(
        AuditEntry.objects.filter(target_type="application").values_list("action", flat=True)
    )
    assert {"started", "submitted", "assigned", "approved"} <= set(actions)

    client.force_login(application.applicant)
    pdf = client.get(reverse("accreditation:certificate_pdf", args=[certificate.pk]))
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    dashboard = client.get(reverse("members:dashboard")).content.decode()
    assert f"Download certificate {certificate.number} (PDF)" in dashboard


def test_request_for_information_then_resubmission(
    client, pathway, django_capture_on_commit_callbacks
):
    application = submitted_application(client, pathway)
    reviewer = assessor()
    application_assign(application=application, assessor=reviewer)
    client.force_login(reviewer)
    url = reverse("accreditation:staff_decide", args=[application.pk])
    response = client.post(url, {"decision": "more_info", "reason": ""})
    assert response.status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"decision": "more_info", "reason": "Upload the transcript too."})
    application.refresh_from_db()
    assert application.status == "more_info"
    assert "Upload the transcript too." in mail.outbox[-1].body

    client.force_login(application.applicant)
    edit_url = reverse("accreditation:application", args=[application.pk])
    client.post(
        reverse("accreditation:application", args=[application.pk]),
        {"evidence-file": upload("transcript.pdf", PDF), "upload": "1"},
    )
    client.post(edit_url, {**DETAILS, "submit": "1"})
    application.refresh_from_db()
    assert application.status == "in_review"
    assert application.assessor == reviewer
    assert application.evidence.count() == 2


def test_illegal_transitions_are_refused(client, pathway):
    application = submitted_application(client, pathway)
    reviewer = assessor()
    with pytest.raises(IllegalTransition):
        application_approve(application=application, by=reviewer)  # not assigned
    application_assign(application=application, assessor=reviewer)
    other = assessor()
    with pytest.raises(IllegalTransition):
        application_approve(application=application, by=other)
    application_approve(application=application, by=reviewer)
    with pytest.raises(IllegalTransition):
        application_approve(application=application, by=reviewer)
    client.force_login(application.applicant)
    client.post(reverse("accreditation:withdraw", args=[application.pk]))
    application.refresh_from_db()
    assert application.status == "approved"


def test_withdraw_before_a_decision(client, pathway):
    application = submitted_application(client, pathway)
    response = client.post(reverse("accreditation:withdraw", args=[application.pk]))
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == "withdrawn"
    # Nothing more can be added.
    client.post(
        reverse("accreditation:application", args=[application.pk]),
        {"evidence-file": upload("late.pdf", PDF), "upload": "1"},
    )
    assert application.evidence.count() == 1


def approved_certificate(client, pathway) -> Certificate:
    application = submitted_application(client, pathway)
    reviewer = assessor()
    application_assign(application=application, assessor=reviewer)
    return application_approve(application=application, by=reviewer)


def test_public_verification_shows_only_the_certificate_facts(client, pathway):
    certificate = approved_certificate(client, pathway)
    client.logout()
    response = client.get(reverse("accreditation:verify", args=[certificate.verification_code]))
    html = response.content.decode()
    assert "This certificate is valid" in html
    assert escape(certificate.holder_name) in html
    assert certificate.number in html
    assert certificate.holder.email not in html
    assert "ILM-778812" not in html  # the applicant's own learner number

    search = reverse("accreditation:verify_search")
    surname = certificate.holder_name.split()[-1]
    by_number = client.get(search, {"number": certificate.number, "surname": surname.upper()})
    assert "This certificate is valid" in by_number.content.decode()
    nothing = client.get(search, {"number": "IGPM-ACC-1999-1", "surname": surname})
    assert "No certificate matches" in nothing.content.decode()
    # A number alone, or with another surname, gives no name away.
    wrong = client.get(search, {"number": certificate.number, "surname": "Notthem"})
    assert "No certificate matches" in wrong.content.decode()
    assert escape(certificate.holder_name) not in wrong.content.decode()
    alone = client.get(search, {"number": certificate.number}).content.decode()
    assert "Enter the surname of the person named on the certificate." in alone
    assert escape(certificate.holder_name) not in alone
    assert client.get(reverse("accreditation:verify", args=["guess"])).status_code == 404


def test_revocation_shows_on_verification_and_needs_a_reason(client, pathway):
    certificate = approved_certificate(client, pathway)
    reviewer = assessor()
    client.force_login(reviewer)
    url = reverse("accreditation:staff_revoke", args=[certificate.pk])
    assert client.post(url, {"reason": ""}).status_code == 400
    client.post(url, {"reason": "Qualification certificate was forged."})
    certificate.refresh_from_db()
    assert certificate.status == "revoked"
    client.logout()
    html = client.get(
        reverse("accreditation:verify", args=[certificate.verification_code])
    ).content.decode()
    assert "This certificate has been revoked" in html
    assert "forged" not in html
    entry = AuditEntry.objects.get(action="certificate_revoked")
    assert entry.actor == reviewer


def test_expired_certificates_say_so(client, pathway):
    certificate = approved_certificate(client, pathway)
    with time_machine.travel(certificate.expires_on + datetime.timedelta(days=1)):
        html = client.get(
            reverse("accreditation:verify", args=[certificate.verification_code])
        ).content.decode()
    assert "This certificate has expired" in html


def test_public_register_lists_only_those_who_opt_in(client, pathway):
    certificate = approved_certificate(client, pathway)
    register = reverse("accreditation:register")
    assert escape(certificate.holder_name) not in client.get(register).content.decode()
    client.force_login(certificate.holder)
    client.post(
        reverse("accreditation:certificate_listing", args=[certificate.pk]), {"listed": "yes"}
    )
    client.logout()
    assert escape(certificate.holder_name) in client.get(register).content.decode()


def test_cpd_log_and_revalidation(client, pathway, django_capture_on_commit_callbacks):
    certificate = approved_certificate(client, pathway)
    user = certificate.holder
    with pytest.raises(AccreditationError, match=r"90\.0 hours"):
        revalidation_apply(certificate=certificate, by=user)

    client.force_login(user)
    bad = client.post(
        reverse("accreditation:cpd"),
        {"date": "", "activity": "Leadership course", "hours": "0.3", "category": "course"},
    )
    html = bad.content.decode()
    assert 'id="id_date_error"' in html
    assert 'id="id_hours_error"' in html
    assert 'value="Leadership course"' in html
    for _ in range(3):
        client.post(
            reverse("accreditation:cpd"),
            {
                "date": datetime.date.today().isoformat(),
                "activity": "Leadership course",
                "hours": "30",
                "category": "course",
                "evidence": upload("attendance.pdf", PDF),
            },
        )
    assert CpdEntry.objects.filter(user=user).count() == 3
    assert Evidence.objects.filter(cpd_entry__user=user).count() == 3

    client.post(reverse("accreditation:revalidate", args=[certificate.pk]))
    revalidation = Application.objects.get(kind="revalidation")
    assert revalidation.status == "submitted"
    reviewer = assessor()
    application_assign(application=revalidation, assessor=reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        renewed = application_approve(application=revalidation, by=reviewer)
    assert renewed.expires_on > certificate.expires_on
    assert renewed.number != certificate.number


def test_expiry_reminders_are_recorded_once_and_sent_once(client, pathway):
    certificate = approved_certificate(client, pathway)
    mail.outbox.clear()
    day = certificate.expires_on - datetime.timedelta(days=30)
    ids: list[int] = []
    assert certificate_notices_sweep(today=day, enqueue=ids.extend)["expiry_30"] == 1
    assert certificate_notices_sweep(today=day, enqueue=ids.extend)["expiry_30"] == 0
    certificate_notices_send(notice_ids=ids)
    certificate_notices_send(notice_ids=ids)
    assert len(mail.outbox) == 1
    assert certificate.number in mail.outbox[0].body


def test_cpd_hours_need_whole_halves(client):
    client.force_login(active_member())
    response = client.post(
        reverse("accreditation:cpd"),
        {"date": "2026-01-05", "activity": "Webinar", "hours": "1.2", "category": "event"},
    )
    assert "Enter hours in halves" in response.content.decode()
    assert not CpdEntry.objects.exists()
