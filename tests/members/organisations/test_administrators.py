"""Who administers an organisation account: adding someone says the same
whether or not the address has a portal account, and emails the person
added; a second person asking for an ODS code that already has an account
is told how to reach the membership team, and staff see the claim and
change the administrators in the admin."""

import pytest
from django.conf import settings
from django.core import mail
from django.test import TestCase
from django.urls import reverse

from members.models import OrganisationAdministrator
from tests.factories import UserFactory, team_member

from .world import account

pytestmark = pytest.mark.django_db


def add(client, acct, email):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            reverse("members:organisation_administrator_add", args=[acct.pk]),
            {"email": email},
            follow=True,
        )


def test_adding_an_administrator_says_the_same_either_way_and_emails_the_person(client):
    acct, admin = account(
        admin=UserFactory(email="manager@riverside.example", first_name="Pat", last_name="Lee")
    )
    colleague = UserFactory(email="deputy@riverside.example")
    client.force_login(admin)
    known = add(client, acct, "Deputy@Riverside.example")
    unknown = add(client, acct, "nobody@riverside.example")
    assert known.status_code == unknown.status_code == 200
    said = "has a portal account, they are now an administrator"
    assert said in known.content.decode() and said in unknown.content.decode()
    assert "Nobody has a portal account" not in unknown.content.decode()
    assert OrganisationAdministrator.objects.filter(account=acct, user=colleague).exists()
    assert [m.to for m in mail.outbox] == [["deputy@riverside.example"]]
    sent = mail.outbox[0]
    assert "administrator of Riverside Surgery" in sent.subject
    assert "Pat Lee has made you an administrator" in sent.body
    assert sent.alternatives  # the base template's HTML part
    # Added again: no second email.
    add(client, acct, "deputy@riverside.example")
    assert len(mail.outbox) == 1


def test_the_email_goes_through_the_emails_queue():
    route = settings.CELERY_TASK_ROUTES[
        "members.organisations.tasks.administrator_added_email_task"
    ]
    assert route == {"queue": "emails"}


def test_a_second_claim_on_an_ods_code_is_told_how_to_reach_the_team_and_staff_see_it(client):
    acct, _admin = account()
    claimant = UserFactory(email="real.manager@practice.example")
    client.force_login(claimant)
    response = client.post(
        reverse("members:organisation_new"),
        {"name": "Riverside Surgery", "kind": "practice", "ods_code": "A81001"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "contact the membership team" in html and settings.IGPM_CONTACT_EMAIL in html
    # Staff see who else claimed it, and the administrators, and change them.
    staff = team_member("Membership team")
    staff.is_staff = staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    page = client.get(reverse("admin:members_organisationaccount_change", args=[acct.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "real.manager@practice.example" in body
    # The administrators inline: staff can add, change and remove them.
    assert 'name="administrators-TOTAL_FORMS"' in body
    assert 'name="administrators-0-user"' in body and 'name="administrators-0-DELETE"' in body
