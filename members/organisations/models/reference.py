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
