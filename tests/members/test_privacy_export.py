"""Download my data: the archive, the request rules, the link and expiry."""

import datetime
import io
import json
import re
import zipfile

import pytest
import time_machine
from django.core import mail
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from members.exceptions import PrivacyRequestRefused
from members.models import AuditEntry, DataExport
from members.privacy.registry import REGISTRY
from members.privacy.services import data_export_build, data_export_request
from members.tasks import data_export_build_task, data_exports_expire_task
from tests.accreditation.conftest import PDF
from tests.conftest import reauthenticate
from tests.factories import ProfileFactory
from tests.members.privacy_world import EMAIL, FIRST, PHONE

pytestmark = pytest.mark.django_db


def archive_of(export: DataExport) -> zipfile.ZipFile:
    with export.file.open("rb") as stored:
        return zipfile.ZipFile(io.BytesIO(stored.read()))


def section(archive: zipfile.ZipFile, name: str) -> list[dict]:
    return json.loads(archive.read(f"{name}.json"))


def test_archive_holds_every_section_with_all_the_members_rows(everything):
    """Each registry section is a JSON file with exactly the member's rows;
    the test member has at least one row in every one, so a new model
    added to the registry without a row here fails."""
    user = everything.user
    export = DataExport.objects.get(user=user)
    assert export.status == DataExport.Status.READY
    archive = archive_of(export)
    sections = {holding.section for holding in REGISTRY if holding.section}
    assert {name for name in archive.namelist() if "/" not in name} == {
        *(f"{name}.json" for name in sections),
        "README.txt",
    }
    for holding in REGISTRY:
        if not holding.section:
            continue
        rows = section(archive, holding.section)
        pk = holding.model._meta.pk.attname
        expected = set(holding.rows(user).values_list("pk", flat=True))
        assert expected, f"the test member has no {holding.label} rows: add one to privacy_world"
        assert {row[pk] for row in rows} == expected, holding.label


def test_archive_contents_are_the_members_details_files_and_readme(everything):
    user = everything.user
    archive = archive_of(DataExport.objects.get(user=user))

    (account,) = section(archive, "account")
    assert account["email"] == EMAIL
    assert account["first_name"] == FIRST
    assert "password" not in account
    (profile,) = section(archive, "profile")
    assert profile["phone"] == PHONE
    # Consents travel with the profile.
    assert profile["marketing_consent"] is True
    assert profile["show_in_directory"] is True
    assert profile["role_label"] == "Practice manager"
    assert all("data" not in row for row in section(archive, "two_factor"))
    assert {row["action"] for row in section(archive, "audit_trail")} >= {
        "refunded",
        "certificate_issued",
        "erasure_requested",
        "data_export_requested",
    }
    assert {row["email"] for row in section(archive, "event_registrations")} == {EMAIL}
    assert any(
        row["payload"]["data"]["object"]["customer_email"] == EMAIL
        for row in section(archive, "stripe_events")
    )

    names = archive.namelist()
    evidence = [name for name in names if name.startswith("files/evidence/")]
    assert sorted(name.split("-", 1)[1] for name in evidence) == [
        "zq-cpd.pdf",
        "zq-diploma.pdf",
        "zq-portfolio.pdf",
    ]
    assert all(archive.read(name) == PDF for name in evidence)
    (certificate_pdf,) = [name for name in names if name.startswith("files/certificates/")]
    assert archive.read(certificate_pdf).startswith(b"%PDF")

    readme = archive.read("README.txt").decode()
    assert f"{FIRST} Quillfeather" in readme
    for holding in REGISTRY:
        if holding.section:
            assert f"{holding.section}.json" in readme


def test_the_member_is_emailed_a_link_that_downloads_the_archive(client, everything):
    (message,) = [m for m in mail.outbox if "ready to download" in m.subject]
    assert message.to == [EMAIL]
    url = re.search(r"http://testserver(/account/privacy/export/\S+/)", message.body).group(1)

    client.force_login(everything.user)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="igpm-my-data-')
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert section(archive, "profile")[0]["phone"] == PHONE


def test_the_link_opens_only_for_its_owner_and_only_for_a_week(client):
    user = ProfileFactory().user
    export = data_export_request(user=user)
    data_export_build(export_id=export.pk)
    url = reverse("members:privacy_download", args=[export.token])

    assert client.get(url).status_code == 302  # sign in first
    client.force_login(ProfileFactory().user)
    assert client.get(url).status_code == 404
    client.force_login(user)
    assert client.get(url).status_code == 200
    with time_machine.travel(timezone.now() + datetime.timedelta(days=7, minutes=1)):
        client.force_login(user)  # sessions last 12 hours
        response = client.get(url)
        assert response.status_code == 410
        assert "has expired" in response.content.decode()


def test_asking_again_is_refused_while_preparing_and_for_an_hour_after(client):
    user = ProfileFactory().user
    export = data_export_request(user=user)  # not committed: the task has not run
    with pytest.raises(PrivacyRequestRefused, match="being prepared"):
        data_export_request(user=user)
    data_export_build(export_id=export.pk)
    with pytest.raises(PrivacyRequestRefused, match="You asked for a copy on"):
        data_export_request(user=user)

    client.force_login(user)
    reauthenticate(client)
    response = client.post(reverse("members:privacy_export"), follow=True)
    assert "You asked for a copy on" in response.content.decode()
    assert DataExport.objects.filter(user=user).count() == 1

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=61)):
        data_export_request(user=user)
    assert DataExport.objects.filter(user=user).count() == 2


def test_an_archive_never_built_is_given_up_so_the_member_can_ask_again():
    user = ProfileFactory().user
    stuck = data_export_request(user=user)
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=7)):
        data_export_request(user=user)
    stuck.refresh_from_db()
    assert stuck.status == DataExport.Status.FAILED


def test_running_the_task_twice_makes_one_archive_and_sends_one_email(
    client, django_capture_on_commit_callbacks
):
    user = ProfileFactory().user
    client.force_login(user)
    reauthenticate(client)
    stored_before = _stored_archives()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("members:privacy_export"))
    assert response.status_code == 302
    export = DataExport.objects.get(user=user)
    assert export.status == DataExport.Status.READY
    assert len(mail.outbox) == 1
    first_file = export.file.name

    assert data_export_build_task.delay(export.pk).get() is False
    export.refresh_from_db()
    assert export.file.name == first_file
    assert len(mail.outbox) == 1
    assert _stored_archives() - stored_before == {first_file}
    assert AuditEntry.objects.filter(action="data_export_requested", subject=user).count() == 1


def test_a_failure_while_building_leaves_nothing_half_saved(monkeypatch):
    user = ProfileFactory().user
    export = data_export_request(user=user)
    stored_before = _stored_archives()

    def fail(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(DataExport, "save", fail)
    with pytest.raises(RuntimeError):
        data_export_build(export_id=export.pk)
    monkeypatch.undo()
    export.refresh_from_db()
    assert export.status == DataExport.Status.PREPARING
    assert not export.file
    assert _stored_archives() == stored_before
    assert mail.outbox == []

    # A retry then succeeds.
    assert data_export_build(export_id=export.pk) is True
    export.refresh_from_db()
    assert export.status == DataExport.Status.READY


def _stored_archives() -> set[str]:
    """Archives in storage (shared by every test in this process)."""
    try:
        return {f"exports/{name}" for name in default_storage.listdir("exports")[1]}
    except FileNotFoundError:
        return set()


def test_expired_archives_are_deleted_by_the_daily_task(django_capture_on_commit_callbacks):
    user = ProfileFactory().user
    export = data_export_request(user=user)
    data_export_build(export_id=export.pk)
    export.refresh_from_db()
    name = export.file.name
    assert default_storage.exists(name)

    with django_capture_on_commit_callbacks(execute=True):
        assert data_exports_expire_task() == 0  # still in its week
    assert default_storage.exists(name)

    with (
        time_machine.travel(timezone.now() + datetime.timedelta(days=8)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert data_exports_expire_task() == 1
        assert data_exports_expire_task() == 0
    export.refresh_from_db()
    assert export.status == DataExport.Status.EXPIRED
    assert not export.file
    assert not default_storage.exists(name)


def test_privacy_page_offers_the_download_and_shows_its_state(client):
    user = ProfileFactory().user
    client.force_login(user)
    page = client.get(reverse("members:privacy")).content.decode()
    assert "Email me a copy of my data" in page
    assert "Ask to delete my account" in page

    export = data_export_request(user=user)
    assert "We are preparing the copy" in client.get(reverse("members:privacy")).content.decode()
    data_export_build(export_id=export.pk)
    page = client.get(reverse("members:privacy")).content.decode()
    assert reverse("members:privacy_download", args=[export.token]) in page


def test_privacy_page_is_linked_from_the_dashboard_and_profile(client):
    client.force_login(ProfileFactory().user)
    link = reverse("members:privacy")
    assert link in client.get(reverse("members:dashboard")).content.decode()
    assert link in client.get(reverse("members:profile")).content.decode()


def test_each_archive_is_stored_under_a_new_random_name():
    user = ProfileFactory().user
    names = []
    for hours in (0, 2):
        with time_machine.travel(timezone.now() + datetime.timedelta(hours=hours)):
            export = data_export_request(user=user)
            data_export_build(export_id=export.pk)
        export.refresh_from_db()
        assert re.fullmatch(r"exports/[0-9a-f]{32}\.zip", export.file.name)
        assert export.token not in export.file.name
        names.append(export.file.name)
    assert names[0] != names[1]
