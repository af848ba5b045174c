"""seed_demo runs every app's part of the demo data in layer order and
makes the accounts the README lists; running it again changes nothing."""

import datetime

import pytest
from django.core.management import call_command

from accreditation.models import Application, Certificate
from events.models import Event
from members.demo import PARTS
from members.models import Membership, User

pytestmark = pytest.mark.django_db


def test_each_app_seeds_its_own_part_in_layer_order():
    assert [seed.__module__ for seed in PARTS] == [
        "members.demo",
        "members.demo",
        "members.demo",
        "members.consultations.demo",
        "members.organisations.demo",
        "accreditation.demo",
        "events.demo",
    ]


def test_seed_demo_makes_the_readme_accounts_once(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    staff = User.objects.get(email="staff@igpm.example")
    assert staff.is_superuser and staff.groups.count() == 4
    amara = User.objects.get(email="amara.okafor@example.org")
    assert amara.membership.status == Membership.Status.ACTIVE
    (renewal,) = amara.membership.auto_renewals.all()
    assert renewal.collects and renewal.card_last4 == "4242"
    assert renewal.next_collection_on == amara.membership.expires_on + datetime.timedelta(days=1)
    assert Certificate.objects.filter(holder=amara).count() == 1
    assert Application.objects.filter(applicant=amara, status="submitted").count() == 1
    assert User.objects.get(email="dylan.hughes@example.org").membership.payments.count() == 1
    assert (
        User.objects.get(email="grace.adeyemi@example.org").membership.status
        == Membership.Status.PENDING_APPROVAL
    )
    assert not hasattr(User.objects.get(email="priya.shah@example.org"), "profile")
    assert Event.objects.count() == 5
    counts = (User.objects.count(), Application.objects.count(), Event.objects.count())

    call_command("seed_demo")
    assert (User.objects.count(), Application.objects.count(), Event.objects.count()) == counts
