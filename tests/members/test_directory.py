"""The member directory: opted-in members, only the fields they chose."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from members.models import Profile
from tests.factories import ProfileFactory, active_member, care_board

pytestmark = pytest.mark.django_db


def listed(**choices) -> Profile:
    user = active_member()
    Profile.objects.filter(user=user).update(show_in_directory=True, **choices)
    return Profile.objects.select_related("user").get(user=user)


def test_only_opted_in_members_in_good_standing_are_listed(client):
    shown = listed()
    hidden = active_member()  # did not opt in
    lapsed = ProfileFactory(show_in_directory=True)  # opted in, not a member
    client.force_login(active_member())
    html = client.get(reverse("members:directory")).content.decode()
    assert escape(shown.user.get_full_name()) in html
    assert escape(hidden.get_full_name()) not in html
    assert escape(lapsed.user.get_full_name()) not in html


def test_only_the_fields_a_member_chose_are_shown(client):
    quiet = listed(directory_show_organisation=False, directory_show_job_title=False)
    open_book = listed(directory_show_email=True, directory_show_phone=True)
    client.force_login(active_member())
    html = client.get(reverse("members:directory")).content.decode()
    assert escape(quiet.organisation_name) not in html
    assert quiet.user.email not in html
    assert open_book.user.email in html
    assert escape(open_book.organisation_name) in html
    assert quiet.phone not in html.replace(open_book.phone, "")


def test_search_by_name_board_and_role(client):
    devon = care_board("NHS Devon ICB")
    target = listed(care_board_id=devon.pk, role=Profile.Role.PCN_MANAGER)
    other = listed()
    # Names of their own: random ones can share a surname.
    for profile, (first, last) in (
        (target, ("Tamsin", "Trevithick")),
        (other, ("Owen", "Ogmore")),
    ):
        profile.user.first_name, profile.user.last_name = first, last
        profile.user.save(update_fields=["first_name", "last_name"])
    client.force_login(active_member())
    url = reverse("members:directory")
    for params in (
        {"q": target.user.last_name},
        {"board": devon.pk},
        {"role": "pcn_manager"},
    ):
        html = client.get(url, params).content.decode()
        assert escape(target.user.get_full_name()) in html, params
        assert escape(other.user.get_full_name()) not in html, params


def test_a_short_word_starts_a_name_and_a_longer_one_is_found_anywhere(client):
    marjorie = listed()
    marjorie.user.first_name, marjorie.user.last_name = "Marjorie", "Ollerton"
    marjorie.user.save(update_fields=["first_name", "last_name"])
    client.force_login(active_member())
    url = reverse("members:directory")

    assert "Ollerton" not in client.get(url, {"q": "jo"}).content.decode()
    assert "Ollerton" in client.get(url, {"q": "ma"}).content.decode()
    assert "Ollerton" in client.get(url, {"q": "jor"}).content.decode()
    # Written as NHS systems write names, and counted above the results.
    html = client.get(url, {"q": "Ollerton, Marjorie"}).content.decode()
    assert "Ollerton" in html
    assert "1 listed member found" in html
    assert "0 listed members found" in client.get(url, {"q": "Zzyzx"}).content.decode()


def test_a_filter_value_that_is_no_choice_is_ignored_and_a_padded_one_is_shown_chosen(client):
    devon = care_board("NHS Devon ICB")
    target = listed(care_board_id=devon.pk)
    other = listed()
    client.force_login(active_member())
    url = reverse("members:directory")

    # "²" passes str.isdigit() but not int(); U+0661 is an Arabic-Indic one.
    for odd in ("²", "①", "\u0661", "-1", "1.0", "x" * 20, "9" * 30):
        for field in ("board", "pcn"):
            response = client.get(url, {field: odd})
            assert response.status_code == 200, (field, odd)
            html = response.content.decode()
            assert escape(other.user.get_full_name()) in html, (field, odd)
    html = client.get(url, {"board": f"0{devon.pk}"}).content.decode()
    assert escape(target.user.get_full_name()) in html
    assert escape(other.user.get_full_name()) not in html
    assert f'<option value="{devon.pk}" selected>' in html


def test_people_who_are_not_members_cannot_browse(client):
    client.force_login(ProfileFactory().user)
    assert client.get(reverse("members:directory")).status_code == 403


@pytest.mark.parametrize("count", [1, 30])
def test_directory_queries_are_flat(client, django_assert_num_queries, count):
    for _ in range(count):
        listed()
    client.force_login(active_member())
    # session with user, membership, boards and PCNs for the filters, count, page
    with django_assert_num_queries(6):
        response = client.get(reverse("members:directory"))
    assert len(response.context["page"].object_list) == count
