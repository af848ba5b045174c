import pytest
from django.urls import reverse

from members.models import Profile
from tests.factories import ProfileFactory, care_board
from tests.members.test_signup import profile_data

pytestmark = pytest.mark.django_db


def test_invalid_ods_code_is_explained_and_everything_typed_is_kept(member_client, member):
    response = member_client.post(
        reverse("members:profile"), profile_data(ods_code="12345X", job_title="Head of Ops")
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_ods_code_error"' in html
    assert "one letter then five digits" in html
    assert 'aria-invalid="true"' in html
    assert 'value="12345X"' in html
    assert 'value="Head of Ops"' in html
    assert 'value="Riverside Medical Centre"' in html
    assert not Profile.objects.filter(user=member).exists()
    member.refresh_from_db()
    assert member.first_name != "Amara"  # nothing half-saved on the account


def test_missing_required_fields_are_each_explained(member_client, member):
    response = member_client.post(reverse("members:profile"), {"first_name": "Amara"})
    assert response.status_code == 200
    html = response.content.decode()
    for field in (
        "last_name",
        "job_title",
        "role",
        "organisation_name",
        "care_board",
        "years_in_role",
    ):
        assert f'id="id_{field}_error"' in html, field
    assert "Enter your last name." in html
    assert "Choose your ICB or health board." in html
    assert 'value="Amara"' in html
    assert not Profile.objects.exists()


def test_practice_roles_need_an_ods_code_but_others_do_not(member_client, member):
    response = member_client.post(reverse("members:profile"), profile_data(ods_code=""))
    assert "Enter your practice&#x27;s ODS code" in response.content.decode()

    response = member_client.post(
        reverse("members:profile"),
        profile_data(ods_code="", role=Profile.Role.FEDERATION_ICB_MANAGER),
    )
    assert response.status_code == 302
    assert Profile.objects.get(user=member).ods_code == ""


@pytest.mark.parametrize(
    ("phone", "ok"),
    [("0161 496 0000", True), ("+44 161 496 0000", True), ("call me", False), ("123", False)],
)
def test_phone_numbers_are_checked(member_client, phone, ok):
    response = member_client.post(reverse("members:profile"), profile_data(phone=phone))
    assert (response.status_code == 302) is ok


def test_editing_keeps_consents_off_unless_ticked_and_saves_changes(client):
    profile = ProfileFactory(show_in_directory=True, marketing_consent=True)
    client.force_login(profile.user)
    response = client.get(reverse("members:profile"))
    assert f'value="{profile.organisation_name}"' in response.content.decode()

    data = profile_data(care_board=care_board("NHS Devon ICB").pk, show_in_directory="on")
    client.post(reverse("members:profile"), data)
    profile.refresh_from_db()
    assert profile.care_board.name == "NHS Devon ICB"
    assert profile.show_in_directory is True
    assert profile.marketing_consent is False


def test_inactive_boards_are_not_offered(member_client):
    closed = care_board("NHS Old Board ICB")
    closed.is_active = False
    closed.save()
    response = member_client.get(reverse("members:profile"))
    assert "NHS Old Board ICB" not in response.content.decode()
    response = member_client.post(reverse("members:profile"), profile_data(care_board=closed.pk))
    assert "Choose an ICB or health board from the list." in response.content.decode()


def test_ods_code_format_is_enforced_by_the_database(member):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Profile.objects.create(user=member, ods_code="a8100")
