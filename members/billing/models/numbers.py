from django.db import models


class MembershipNumberSequence(models.Model):
    """The last membership number given out, as one row.

    Numbers were once the membership's primary key; an imported register
    brings its own numbers, so the next number is kept here and moved on
    past the highest imported one (``members.billing.services.numbers``).
    The row is locked while a number is taken or the sequence moved, so
    two payments, or a payment and an import, never share a number.
    """

    last = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "membership number sequence"

    def __str__(self) -> str:
        return f"Last membership number {self.last}"
