"""The pages of the NHS data: the ODS import from the admin with its
progress page, the practice search behind the profile's picker, the
profile filled in from a practice, and codes the data does not know."""

import json

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from members.models import NHSOrganisation, OdsImport, Profile
from members.organisations.ods_import import import_progress, ods_import, progress_key
from tests.factories import ProfileFactory, StaffFactory, care_board
from tests.members.ods_world import month_one, north_east_board
from tests.members.test_signup import profile_data

pytestmark = pytest.mark.django_db


def staff(team: str | None) -> object:
    user = StaffFactory(mfa=True)
    if team:
        user.groups.add(Group.objects.get(name=team))
    return user


@pytest.fixture
def admin_client(client):
    client.force_login(staff("Administrators"))
    return client


@pytest.fixture
def loaded():
    board = north_east_board()
    practices, pcns = month_one()
    ods_import(practices=practices, pcns=pcns)
    return board


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


# --- The import from the admin ----------------------------------------------------


def test_an_administrator_uploads_the_files_and_sees_the_import_finish_with_its_report(
    admin_client, django_capture_on_commit_callbacks
):
    north_east_board()
    practices, pcns = month_one()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:members_odsimport_add"),
            {
                "practices_file": upload("epraccur.csv", practices),
                "pcn_file": upload("epcncorepartnerdetails.csv", pcns),
            },
        )
    record = OdsImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("members:staff_ods_import", args=[record.pk])
    # The task ran after commit (eagerly in the tests) from the stored files.
    record.refresh_from_db()
    assert record.status == OdsImport.Status.DONE
    assert record.practices_file_name == "epraccur.csv"
    assert record.report["practices"]["added"] == 5
    assert NHSOrganisation.objects.filter(kind="practice").count() == 5

    page = admin_client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert "What changed" in html
    assert "A81001, A81002" in html
    assert "Refresh" not in html  # finished: nothing to wait for
    progress = admin_client.get(reverse("members:staff_ods_import_progress", args=[record.pk]))
    assert progress.json() == {
        "status": "done",
        "status_label": "Finished",
        "percent": 100,
        "doing": "Finished",
        "finished": True,
    }
    assert "no-store" in progress["Cache-Control"]
    # The admin's page of an import is its report page.
    change = admin_client.get(reverse("admin:members_odsimport_change", args=[record.pk]))
    assert change["Location"] == reverse("members:staff_ods_import", args=[record.pk])


def test_a_running_import_shows_its_progress_and_a_refresh_button(admin_client):
    record = OdsImport.objects.create(status=OdsImport.Status.RUNNING)
    from django.core.cache import cache

    cache.set(progress_key(record.pk), {"percent": 55, "doing": "Practices"})
    html = admin_client.get(reverse("members:staff_ods_import", args=[record.pk])).content.decode()
    assert 'value="55"' in html
    assert "Practices" in html
    assert "Refresh" in html
    assert 'data-finished="false"' in html
    assert import_progress(record)["percent"] == 55


def test_the_wrong_file_is_refused_beside_the_field_and_nothing_is_queued(admin_client):
    practices, pcns = month_one()
    response = admin_client.post(
        reverse("admin:members_odsimport_add"),
        {"practices_file": upload("epraccur.csv", pcns), "pcn_file": upload("p.csv", practices)},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "This does not look like epraccur.csv" in html
    assert "This does not look like the PCN core-partner file" in html
    assert not OdsImport.objects.exists()

    response = admin_client.post(reverse("admin:members_odsimport_add"), {})
    assert "Choose the epraccur.csv file." in response.content.decode()


def test_a_file_over_the_size_limit_is_refused(admin_client, monkeypatch):
    monkeypatch.setattr("members.organisations.ods_forms.ODS_FILE_MAX_BYTES", 100)
    practices, _ = month_one()
    response = admin_client.post(
        reverse("admin:members_odsimport_add"), {"practices_file": upload("e.csv", practices)}
    )
    assert response.status_code == 400
    assert "is over 0 MB" in response.content.decode()


def oversized_field_row() -> bytes:
    """A row with a field over the csv module's field size limit."""
    import csv

    return b'"A81999","' + b"x" * (csv.field_size_limit() + 10) + b'"\r\n'


def test_a_file_csv_cannot_read_is_refused_beside_the_field(admin_client):
    practices, pcns = month_one()
    response = admin_client.post(
        reverse("admin:members_odsimport_add"),
        {
            "practices_file": upload("epraccur.csv", practices + oversized_field_row()),
            "pcn_file": upload("pcns.csv", pcns + oversized_field_row()),
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "The practices file cannot be read as CSV at row" in html
    assert "The PCN file cannot be read as CSV at row" in html
    assert not OdsImport.objects.exists()


def test_a_file_csv_cannot_read_past_the_checked_lines_fails_the_run_with_the_reason(
    admin_client, django_capture_on_commit_callbacks
):
    """The form reads only the first lines; the task reads the rest and
    marks the run failed with why, changing nothing."""
    north_east_board()
    practices, _ = month_one()
    content = practices + b"\r\n" * 60 + oversized_field_row()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:members_odsimport_add"),
            {"practices_file": upload("epraccur.csv", content)},
        )
    assert response.status_code == 302
    record = OdsImport.objects.get()
    assert record.status == OdsImport.Status.FAILED
    assert "The practices file cannot be read as CSV at row 67" in record.error
    assert not NHSOrganisation.objects.exists()
    page = admin_client.get(response["Location"])
    assert page.status_code == 200
    assert "cannot be read as CSV" in page.content.decode()


@pytest.mark.parametrize("team", [None, "Membership team", "Events team"])
def test_only_the_administrators_import(client, team):
    record = OdsImport.objects.create()
    client.force_login(staff(team))
    assert client.get(reverse("admin:members_odsimport_add")).status_code == 403
    assert client.get(reverse("members:staff_ods_import", args=[record.pk])).status_code == 403
    progress = reverse("members:staff_ods_import_progress", args=[record.pk])
    assert client.get(progress).status_code == 403
    practices, _ = month_one()
    client.post(reverse("admin:members_odsimport_add"), {"practices_file": upload("e", practices)})
    assert OdsImport.objects.count() == 1


def test_members_cannot_see_an_import(client):
    record = OdsImport.objects.create()
    client.force_login(ProfileFactory().user)
    assert client.get(reverse("members:staff_ods_import", args=[record.pk])).status_code == 403


def test_a_task_delivered_twice_imports_once(loaded):
    from members.organisations.ods_import import ods_import_stored

    record = OdsImport.objects.create(status=OdsImport.Status.DONE)
    assert ods_import_stored(import_id=record.pk) is True
    record.refresh_from_db()
    assert record.report == {}  # left alone


# --- The practice search --------------------------------------------------------


def search(client, q, **extra):
    return client.get(reverse("members:practice_search"), {"q": q, **extra})


@pytest.mark.parametrize("postcode", ["TS18 1HU", "ts181hu", " ts18 1h", "TS18"])
def test_the_picker_finds_a_practice_by_postcode(member_client, loaded, postcode):
    found = search(member_client, postcode, format="json").json()["results"]
    assert "A81001" in [row["code"] for row in found]
    densham = next(row for row in found if row["code"] == "A81001")
    assert densham["pcn"] == "STOCKTON PCN"
    assert densham["icb"] == "North East and North Cumbria"
    assert densham["care_board"] == loaded.pk
    assert densham["label"] == "The Densham Surgery, Stockton-On-Tees, TS18 1HU (A81001)"


@pytest.mark.parametrize(
    ("query", "codes"),
    [
        ("densham", ["A81001"]),
        ("medical hartlepool", ["A81003"]),
        ("durham", ["A83005"]),
        ("a8100", ["A81001", "A81002", "A81003", "A81004"]),
        ("A81003", ["A81003"]),
        ("nothing like it", []),
    ],
)
def test_the_picker_finds_by_name_town_and_code(member_client, loaded, query, codes):
    found = search(member_client, query, format="json").json()["results"]
    assert sorted(row["code"] for row in found) == codes


def test_an_exact_code_comes_first_and_closed_practices_last(member_client, loaded):
    NHSOrganisation.objects.filter(code="A81001").update(status="closed")
    found = search(member_client, "stockton", format="json").json()["results"]
    assert [row["code"] for row in found] == ["A81002", "A81001"]
    assert found[1]["open"] is False
    assert "(closed)" in found[1]["label"]
    found = search(member_client, "A81004", format="json").json()["results"]
    assert found[0]["code"] == "A81004"


def test_the_search_page_works_without_javascript(member_client, loaded):
    response = search(member_client, "TS18 1HU")
    html = response.content.decode()
    assert response.status_code == 200
    assert "The Densham Surgery, Stockton-On-Tees, TS18 1HU (A81001)" in html
    assert escape(reverse("members:profile") + "?practice=A81001") in html
    assert "PCN: STOCKTON PCN" in html
    short = search(member_client, "t").content.decode()
    assert "Type at least 2 letters or numbers." in short


def test_the_search_is_size_limited_and_refuses_a_null_character(member_client, loaded):
    found = search(member_client, "densham " * 100, format="json")
    assert found.status_code == 200
    assert [row["code"] for row in found.json()["results"]] == ["A81001"]
    refused = search(member_client, "dens\x00ham")
    assert refused.status_code == 400
    assert "null character" in refused.content.decode()
    many = [f"A8{n:04d}" for n in range(30)]
    NHSOrganisation.objects.bulk_create(
        NHSOrganisation(code=code, kind="practice", name=f"SURGERY {code}") for code in many
    )
    assert len(search(member_client, "surgery", format="json").json()["results"]) == 10


def test_the_search_is_rate_limited_per_member(member_client, loaded, settings):
    settings.PRACTICE_SEARCH_RATE_LIMIT = "3/m/user"
    for _ in range(3):
        assert search(member_client, "densham", format="json").status_code == 200
    refused = search(member_client, "densham", format="json")
    assert refused.status_code == 429
    assert "Too many searches" in refused.json()["error"]
    assert search(member_client, "densham").status_code == 429


def test_the_search_is_for_people_signed_in(client, loaded):
    response = search(client, "densham", format="json")
    assert response.status_code == 302


def test_the_search_costs_the_same_queries_however_many_it_finds(
    member_client, loaded, django_assert_num_queries
):
    search(member_client, "densham", format="json")  # session and user loaded once
    # the session with the user, practices with their PCN and ICB, care boards
    with django_assert_num_queries(3):
        one = search(member_client, "densham", format="json")
    with django_assert_num_queries(3):
        many = search(member_client, "medical", format="json")
    assert len(one.json()["results"]) == 1 and len(many.json()["results"]) == 4


# --- The profile ------------------------------------------------------------------


def test_a_known_practice_fills_in_the_pcn_and_icb_from_the_data(member_client, member, loaded):
    other_board = care_board()
    response = member_client.post(
        reverse("members:profile"),
        profile_data(ods_code="a81001", pcn_name="Typed PCN", care_board=other_board.pk),
    )
    assert response.status_code == 302
    profile = Profile.objects.get(user=member)
    assert profile.practice.code == "A81001"
    assert profile.pcn_name == "STOCKTON PCN"
    assert profile.care_board == loaded
    assert not profile.ods_code_unknown


def test_a_known_practice_needs_no_board_chosen(member_client, member, loaded):
    response = member_client.post(
        reverse("members:profile"), profile_data(ods_code="A81002", care_board="")
    )
    assert response.status_code == 302
    assert Profile.objects.get(user=member).care_board == loaded


def test_a_code_the_data_does_not_know_is_kept_and_flagged_for_staff(
    member_client, member, loaded, client
):
    response = member_client.post(reverse("members:profile"), profile_data(ods_code="B99999"))
    assert response.status_code == 302
    profile = Profile.objects.get(user=member)
    assert profile.ods_code == "B99999"
    assert profile.practice is None
    assert profile.ods_code_unknown
    assert profile.pcn_name == "Riverside PCN"  # as typed

    client.force_login(staff("Membership team"))
    listing = client.get(reverse("members:staff_practice_codes")).content.decode()
    assert "B99999" in listing
    assert "Amara Okafor" in listing
    record = client.get(reverse("members:staff_member", args=[member.pk])).content.decode()
    assert "Code not known" in record


def test_a_known_code_is_not_flagged_and_the_record_shows_the_practice(client, loaded):
    known = ProfileFactory(ods_code="A81001")
    from members.organisations.ods_import import profiles_link

    profiles_link()
    client.force_login(staff("Membership team"))
    assert "A81001" not in client.get(reverse("members:staff_practice_codes")).content.decode()
    record = client.get(reverse("members:staff_member", args=[known.user_id])).content.decode()
    assert "The Densham Surgery" in record
    assert "Code not known" not in record


def test_a_practice_chosen_on_the_search_page_fills_in_the_profile(member_client, loaded):
    html = member_client.get(reverse("members:profile"), {"practice": "A81003"}).content.decode()
    assert "You chose Victoria Medical Practice" in html
    assert 'value="A81003"' in html
    assert 'value="HARTLEPOOL PCN"' in html
    assert f'<option value="{loaded.pk}" selected>' in html
    # An unknown or hostile value is ignored.
    assert member_client.get(reverse("members:profile"), {"practice": "\x00"}).status_code == 200
    plain = member_client.get(reverse("members:profile"), {"practice": "Z1"}).content.decode()
    assert "You chose" not in plain


@pytest.mark.parametrize("team", [None, "Events team"])
def test_only_those_who_find_members_see_the_codes_to_check(client, team):
    client.force_login(staff(team))
    assert client.get(reverse("members:staff_practice_codes")).status_code == 403


@pytest.mark.parametrize("count", [1, 30])
def test_the_codes_to_check_page_is_flat(client, django_assert_num_queries, count):
    for n in range(count):
        ProfileFactory(ods_code=f"B{n:05d}")
    client.force_login(staff("Membership team"))
    # session with user, two-factor, permissions (user's, groups'), count, page
    with django_assert_num_queries(6):
        response = client.get(reverse("members:staff_practice_codes"))
    assert len(response.context["page"].object_list) == count


# --- Reports and the directory -----------------------------------------------------


def test_reports_count_members_by_icb_and_pcn_of_their_practice(loaded):
    from members.organisations.ods_import import profiles_link
    from members.organisations.ods_reports import practice_places
    from members.reports.period import Period
    from tests.factories import active_member

    for code in ("A81001", "A81002", "A83005", "B99999"):
        member = active_member()
        Profile.objects.filter(user=member).update(ods_code=code, pcn_name="Whatever was typed")
    profiles_link()
    icbs, unlinked = practice_places(Period.current())
    assert unlinked == 1
    assert [(icb.name, icb.members) for icb in icbs] == [("North East and North Cumbria", 3)]
    assert icbs[0].pcns == [("STOCKTON PCN", 2), ("DURHAM CITY PCN", 1)]
    assert icbs[0].pcns_known == 2


def test_members_at_a_practice_with_no_pcn_are_not_counted_as_one():
    from members.organisations.ods_reports import NO_PCN, IcbRow

    row = IcbRow("North East and North Cumbria", 3, [("STOCKTON PCN", 2), (NO_PCN, 1)])
    assert row.pcns_known == 1


def test_the_reports_page_lists_icbs_and_the_section_page_every_pcn(client, loaded):
    from members.organisations.ods_import import profiles_link
    from tests.factories import active_member, team_member

    for code in ("A81001", "A81002", "A83005"):
        member = active_member()
        Profile.objects.filter(user=member).update(ods_code=code)
    profiles_link()
    client.force_login(team_member("Membership team"))

    overview = client.get(reverse("members:staff_reports")).content.decode()
    section = overview[overview.index('<section class="report" id="pcns"') :]
    section = section[: section.index("</section>")]
    assert '<th scope="row">North East and North Cumbria</th><td>2</td><td>3</td>' in section
    assert "STOCKTON PCN" not in section
    own_page = reverse("members:staff_report_section", args=["pcns"])
    assert f'<a href="{own_page}">this section\'s own page</a>' in section

    html = client.get(own_page).content.decode()
    assert "<td>STOCKTON PCN</td><td>2</td>" in html
    assert "<td>DURHAM CITY PCN</td><td>1</td>" in html


def test_the_directory_filters_by_the_pcn_in_the_data(client, loaded):
    from members.organisations.ods_import import profiles_link
    from tests.factories import active_member

    stockton, durham = active_member(), active_member()
    for member, code in ((stockton, "A81001"), (durham, "A83005")):
        Profile.objects.filter(user=member).update(ods_code=code, show_in_directory=True)
    profiles_link()
    pcn = NHSOrganisation.objects.get(code="U11111")
    client.force_login(stockton)
    page = client.get(reverse("members:directory"), {"pcn": pcn.pk})
    html = page.content.decode()
    assert escape(stockton.get_full_name()) in html
    assert escape(durham.get_full_name()) not in html
    assert "STOCKTON PCN" in html
    assert "DURHAM CITY PCN" in html  # offered in the filter
    json.dumps(page.context["pcns"])  # plain values, no model objects
