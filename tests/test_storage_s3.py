"""Private files on S3-compatible object storage: stored in the bucket,
handed out only through the permission-checked views, and nothing on the
web node's disk. Runs against moto's real S3 API on 127.0.0.1."""

import datetime
import io
import secrets
import zipfile

import pytest
from django.urls import reverse
from members.services.privacy import data_export_build, data_export_request

from accreditation.models import Application, Certificate, Evidence
from accreditation.services import certificate_render
from members.models import DataExport
from tests.accreditation.conftest import PDF, upload
from tests.factories import ProfileFactory, UserFactory, active_member

pytestmark = pytest.mark.django_db


def stored(s3, name: str) -> bytes:
    """The object as the bucket holds it, read with boto3 itself."""
    return s3.client.get_object(Bucket=s3.bucket, Key=name)["Body"].read()


def keys(s3) -> set[str]:
    listed = s3.client.list_objects_v2(Bucket=s3.bucket)
    return {item["Key"] for item in listed.get("Contents", [])}


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def evidence_uploaded(client, pathway) -> Evidence:
    owner = active_member()
    client.force_login(owner)
    client.post(reverse("accreditation:apply"), {"pathway": pathway.pk})
    application = Application.objects.get(applicant=owner)
    client.post(
        reverse("accreditation:application", args=[application.pk]),
        {"evidence-file": upload("my certificate.pdf", PDF), "upload": "1"},
    )
    return Evidence.objects.get(application=application)


def test_uploaded_evidence_is_stored_in_the_bucket(s3, client, pathway, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    evidence = evidence_uploaded(client, pathway)

    assert keys(s3) == {evidence.file.name}
    assert stored(s3, evidence.file.name).startswith(b"%PDF")
    # Nothing written to the web node's own disk.
    assert list(tmp_path.iterdir()) == []


def test_evidence_downloads_for_its_owner_and_not_for_another_member(s3, client, pathway):
    evidence = evidence_uploaded(client, pathway)
    url = reverse("accreditation:evidence_download", args=[evidence.pk])

    response = client.get(url)
    assert response.status_code == 200
    assert body(response) == stored(s3, evidence.file.name)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="my certificate.pdf"'
    assert response["Content-Length"] == str(len(stored(s3, evidence.file.name)))
    assert response["Cache-Control"] == "private, no-store"

    client.force_login(active_member())
    assert client.get(url).status_code == 404


def test_data_export_archive_lands_in_the_bucket_and_downloads(s3, client, pathway):
    evidence = evidence_uploaded(client, pathway)
    owner = evidence.application.applicant
    export = data_export_request(user=owner)
    data_export_build(export_id=export.pk)
    export.refresh_from_db()

    assert export.status == DataExport.Status.READY
    assert export.file.name in keys(s3)
    url = reverse("members:privacy_download", args=[export.token])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    downloaded = body(response)
    assert downloaded == stored(s3, export.file.name)
    # The member's evidence was read back out of the bucket into the archive.
    archive = zipfile.ZipFile(io.BytesIO(downloaded))
    (name,) = [n for n in archive.namelist() if n.startswith("files/")]
    assert archive.read(name) == stored(s3, evidence.file.name)

    client.force_login(ProfileFactory().user)
    assert client.get(url).status_code == 404


def test_certificate_pdf_lands_in_the_bucket_and_downloads_for_its_holder(s3, client, pathway):
    holder = UserFactory()
    application = Application.objects.create(
        applicant=holder, pathway=pathway, status=Application.Status.APPROVED
    )
    certificate = Certificate.objects.create(
        application=application,
        holder=holder,
        pathway=pathway,
        number="IGPM-ACC-2026-00077",
        verification_code=secrets.token_urlsafe(24),
        holder_name=holder.get_full_name(),
        issued_on=datetime.date(2026, 3, 14),
        expires_on=datetime.date(2029, 3, 13),
    )
    certificate_render(certificate_id=certificate.pk)
    certificate_render(certificate_id=certificate.pk)  # again: replaced, not doubled
    certificate.refresh_from_db()

    assert keys(s3) == {"certificates/IGPM-ACC-2026-00077.pdf"}
    pdf = stored(s3, certificate.pdf.name)
    assert pdf.startswith(b"%PDF")
    url = reverse("accreditation:certificate_pdf", args=[certificate.pk])

    client.force_login(holder)
    response = client.get(url)
    assert response.status_code == 200
    assert body(response) == pdf
    assert response["Content-Disposition"] == 'attachment; filename="IGPM-ACC-2026-00077.pdf"'

    client.force_login(active_member())
    assert client.get(url).status_code == 404
