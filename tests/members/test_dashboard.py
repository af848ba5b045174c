import pytest
from django.urls import reverse

from members.billing.services.payments import payment_create
from members.models import Profile
from tests.factories import MembershipFactory, ProfileFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

# the session with the user, profile, board, membership and grade
# (members.sessions); open consultations (kept a few seconds after,
# igpm.memo); and whether the organisations' and events' panels have
# anything to show (one query for both: this member holds no seat, runs no
# organisation and has no registration, so neither panel loads)
DASHBOARD_QUERIES = 3


def test_new_member_dashboard_asks_for_the_profile(client):
    client.force_login(UserFactory(first_name="", last_name=""))
    html = client.get(reverse("members:dashboard")).content.decode()
    assert "Profile 0% complete" in html
    assert "Still to add: first name, last name, job title, role" in html
    assert '<a href="/profile/">Complete your profile</a>' in html


def test_dashboard_names_what_is_missing(client):
    profile = ProfileFactory(phone="", pcn_name="")
    client.force_login(profile.user)
    html = client.get(reverse("members:dashboard")).content.decode()
    assert "Profile 80% complete" in html
    assert "You could also add: phone number, primary care network (PCN)." in html
    assert "Done" in html


def test_non_practice_role_needs_no_ods_code_to_be_complete(client):
    profile = ProfileFactory(role=Profile.Role.PCN_MANAGER, ods_code="")
    client.force_login(profile.user)
    assert "Profile 100% complete" in client.get(reverse("members:dashboard")).content.decode()


@pytest.mark.parametrize("others", [0, 50])
def test_dashboard_query_count_is_pinned_and_flat(client, django_assert_num_queries, others):
    ProfileFactory.create_batch(others)
    UserFactory.create_batch(others)
    profile = ProfileFactory()
    client.force_login(profile.user)
    with django_assert_num_queries(DASHBOARD_QUERIES):
        response = client.get(reverse("members:dashboard"))
    assert response.status_code == 200


@pytest.mark.parametrize("others", [0, 50])
def test_staff_home_query_count_is_flat(client, django_assert_num_queries, others):
    ProfileFactory.create_batch(others)
    staff = StaffFactory(mfa=True)
    client.force_login(staff)
    # the session with the user, authenticator check, one aggregate, and
    # the user's and groups' permissions for the links the page offers
    with django_assert_num_queries(5):
        response = client.get(reverse("members:staff_home"))
    assert response.status_code == 200
    assert response.context["overview"].with_profile == others


@pytest.mark.parametrize("payments", [1, 12])
def test_member_dashboard_query_count_is_flat_in_payments(
    client, django_assert_num_queries, payments
):
    membership = MembershipFactory()
    for _ in range(payments):
        payment_create(membership=membership, method="offline", by=membership.user)
    client.force_login(membership.user)
    # ... plus the member's payments and certificates, and their latest
    # automatic renewal, a query each
    with django_assert_num_queries(DASHBOARD_QUERIES + 3):
        response = client.get(reverse("members:dashboard"))
    assert response.status_code == 200
    assert "Pay for your membership" in response.content.decode()


@pytest.mark.parametrize("registrations", [1, 6])
def test_a_seat_holders_dashboard_with_events_loads_both_panels_and_stays_flat(
    client, django_assert_num_queries, registrations
):
    """A seat holder (who also administers the account) with registrations:
    the panels that have something to show run their own queries."""
    from tests.factories import event, member_registration
    from tests.members.organisations.world import paid_year, seat_holder

    year, admin = paid_year(seats=3)
    person, _holding = seat_holder(year, admin)
    year.account.administrators.create(user=person)
    for _ in range(registrations):
        member_registration(event(), person)
    client.force_login(person)
    # ... plus the member's payments, certificates and latest automatic
    # renewal, a query each; the seats held and accounts run; and the
    # registrations with their events
    with django_assert_num_queries(DASHBOARD_QUERIES + 3 + 2 + 1):
        response = client.get(reverse("members:dashboard"))
    html = response.content.decode()
    assert "Riverside Surgery" in html
    assert "You have no events coming up" not in html
