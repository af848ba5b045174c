"""Summary rows behind the staff reports' joining, renewal, lapse and
retention figures, kept current by the services that change memberships
(``members.reports.summary``) and rebuilt from scratch by
``manage.py reports_rebuild``."""

from django.db import models

from members.billing.models import Membership


class MembershipDay(models.Model):
    """What happened to paid years on one UK day, across every membership:
    joined, renewed and rejoined by the day the payment arrived; lapsed by
    the day grace ended (a future day for a year still in its grace, which
    the reports leave out until it comes); ended and ended-then-renewed by a
    paid year's last day."""

    day = models.DateField(primary_key=True)
    joined = models.IntegerField(default=0)
    renewed = models.IntegerField(default=0)
    rejoined = models.IntegerField(default=0)
    lapsed = models.IntegerField(default=0)
    ended = models.IntegerField(default=0)
    ended_renewed = models.IntegerField(default=0)

    class Meta:
        ordering = ["day"]

    def __str__(self) -> str:
        return self.day.isoformat()


class MembershipFigures(models.Model):
    """One membership's share of ``MembershipDay`` as last counted, so that
    counting it again after a change adds only the difference."""

    membership = models.OneToOneField(
        Membership, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    days = models.JSONField(default=dict)  # {"2026-03-01": {"joined": 1}, ...}

    def __str__(self) -> str:
        return f"Figures of membership {self.membership_id}"
