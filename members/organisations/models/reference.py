import uuid

from django.db import models


class NHSOrganisation(models.Model):
    """A GP practice, PCN, Sub ICB Location or ICB as the NHS Organisation
    Data Service (ODS) publishes it. Reference data: loaded and refreshed
    from the ODS files, never typed in; an organisation that closes is
    marked closed, never deleted, so the members and accounts that name it
    keep their link."""

    class Kind(models.TextChoices):
        PRACTICE = "practice", "GP practice"
        PCN = "pcn", "Primary care network"
        SUB_ICB = "sub_icb", "Sub ICB Location"
        ICB = "icb", "Integrated care board"

    class Status(models.TextChoices):
        ACTIVE = "active", "Open"
        CLOSED = "closed", "Closed"
        DORMANT = "dormant", "Dormant"
        PROPOSED = "proposed", "Proposed"

    code = models.CharField("ODS code", max_length=10, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, db_index=True)
    name = models.CharField(max_length=200)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    address = models.CharField(max_length=400, blank=True)
    town = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    opened_on = models.DateField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    # The practice's commissioner (Sub ICB Location), its PCN, and the ICB
    # above them; a PCN's and a Sub ICB Location's own parents likewise.
    sub_icb = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    pcn = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="practices"
    )
    icb = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "code"]
        verbose_name = "NHS organisation"

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.ACTIVE


def ods_import_path(instance: "OdsImport", filename: str) -> str:
    # Generated names: the uploader's name is kept only on the row.
    return f"ods-imports/{uuid.uuid4().hex}.csv"


class OdsImport(models.Model):
    """One run of the ODS import: the files staff uploaded in the admin (or
    none, when run from the command line), where it got to, and what it
    changed. The files are kept in private storage so the Celery worker,
    on any machine, reads the same bytes."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Importing"
        DONE = "done", "Finished"
        FAILED = "failed", "Failed"

    practices_file = models.FileField(
        "epraccur.csv (GP practices)", upload_to=ods_import_path, max_length=200, blank=True
    )
    practices_file_name = models.CharField(max_length=200, blank=True)
    pcn_file = models.FileField(
        "PCN core-partner file (practice to PCN)",
        upload_to=ods_import_path,
        max_length=200,
        blank=True,
    )
    pcn_file_name = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    started_by_label = models.CharField("started by", max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # {"added": n, "changed": n, "moved": n, "closed": n, "unchanged": n,
    #  "skipped": n, "added_codes": [...], ...}: see ods_import.ImportReport.
    report = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "ODS import"
        permissions = [("run_ods_import", "Can upload ODS files and run the import")]

    def __str__(self) -> str:
        return f"ODS import {self.pk} ({self.get_status_display().lower()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
