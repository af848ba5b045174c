"""Invitations and reminders: to members in the audience who agreed to
hear about consultations, who have not answered and did not opt out.

Each is recorded once per consultation, member and kind under a unique
constraint before it is queued, so two sweeps at once send nothing twice.
"""

import datetime

from django.core import signing
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone

from igpm.emails import email_build
from igpm.notices import BATCH, recorded_notices_send
from members.models import User

from .models import Consultation, ConsultationNotice, ReminderOptOut, Response
from .selectors import audience_users

Kind = ConsultationNotice.Kind
# A reminder is due this long before the close...
REMINDERS = {
    Kind.REMINDER_1: datetime.timedelta(days=7),
    Kind.REMINDER_2: datetime.timedelta(days=1),
}
# ...and never sooner than this after the member's previous email.
REMINDER_GAP = datetime.timedelta(days=1)
OPT_OUT_SALT = "consultation-reminders-stop"


def recipients(*, consultation: Consultation, kind: str, now=None) -> QuerySet:
    """The members a ``kind`` email about ``consultation`` is due to now."""
    now = now or timezone.now()
    users = (
        audience_users(consultation=consultation)
        .filter(profile__consultation_consent=True)
        .exclude(
            Exists(
                Response.objects.filter(
                    consultation=consultation, user=OuterRef("pk"), submitted_at__isnull=False
                )
            )
        )
        .exclude(
            Exists(ReminderOptOut.objects.filter(consultation=consultation, user=OuterRef("pk")))
        )
    )
    if kind != Kind.INVITATION:
        earlier = ConsultationNotice.objects.filter(
            consultation=consultation, user=OuterRef("pk"), created_at__gt=now - REMINDER_GAP
        )
        invited = ConsultationNotice.objects.filter(
            consultation=consultation, user=OuterRef("pk"), kind=Kind.INVITATION
        )
        users = users.filter(Exists(invited)).exclude(Exists(earlier))
    return users


def notices_insert_once(consultation_id: int, user_ids: list[int], kind: str) -> list[int]:
    """Record one ``kind`` notice per member unless it exists; the new ids.
    ``ON CONFLICT DO NOTHING RETURNING`` says exactly which rows this call
    made, so a sweep running alongside never sends the same one."""
    table = ConsultationNotice._meta.db_table
    now = timezone.now()
    rows = ", ".join(["(%s, %s, %s, %s)"] * len(user_ids))
    params: list = []
    for user_id in user_ids:
        params += [consultation_id, user_id, kind, now]
    sql = (
        f"INSERT INTO {table} (consultation_id, user_id, kind, created_at) "  # noqa: S608
        f"VALUES {rows} ON CONFLICT (consultation_id, user_id, kind) DO NOTHING RETURNING id"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def due_kinds(consultation: Consultation, now) -> list[str]:
    kinds = [Kind.INVITATION]
    for kind, before in REMINDERS.items():
        if now >= consultation.closes_at - before:
            kinds.append(kind)
    return kinds


def consultation_notices_sweep(*, enqueue=None, now=None) -> dict[str, int]:
    """Record and queue every invitation and reminder now due."""
    if enqueue is None:
        from .tasks import consultation_notices_send_task

        def enqueue(ids: list[int]) -> None:
            consultation_notices_send_task.delay(ids)

    now = now or timezone.now()
    recorded = dict.fromkeys(Kind.values, 0)
    open_now = Consultation.objects.filter(
        status=Consultation.Status.OPEN, opens_at__lte=now, closes_at__gt=now
    ).prefetch_related("audience_grades", "audience_care_boards")
    for consultation in open_now:
        # The second reminder is for those the first did not move, so the
        # first is recorded before it; the gap keeps them a day apart.
        for kind in due_kinds(consultation, now):
            due = recipients(consultation=consultation, kind=kind, now=now).exclude(
                Exists(
                    ConsultationNotice.objects.filter(
                        consultation=consultation, user=OuterRef("pk"), kind=kind
                    )
                )
            )
            last_pk = 0
            while user_ids := list(
                due.filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:BATCH]
            ):
                last_pk = user_ids[-1]
                if new := notices_insert_once(consultation.pk, user_ids, kind):
                    enqueue(new)
                    recorded[kind] += len(new)
    return recorded


def opt_out_token(*, consultation: Consultation, user: User) -> str:
    return signing.dumps([consultation.pk, user.pk], salt=OPT_OUT_SALT, compress=True)


def opt_out_read(token: str) -> tuple[int, int] | None:
    try:
        consultation_id, user_id = signing.loads(token, salt=OPT_OUT_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return consultation_id, user_id


def reminders_stop(*, consultation: Consultation, user: User) -> ReminderOptOut:
    opt_out, _ = ReminderOptOut.objects.get_or_create(consultation=consultation, user=user)
    return opt_out


def consultation_notices_send(*, notice_ids: list[int]) -> int:
    """Send each recorded notice once, unless the member answered or opted
    out since it was recorded."""

    def build(notice: ConsultationNotice, smtp):
        consultation = notice.consultation
        return email_build(
            to=notice.user.email,
            template=(
                "members/email/consultation_invitation"
                if notice.kind == Kind.INVITATION
                else "members/email/consultation_reminder"
            ),
            context={
                "consultation": consultation,
                "member": notice.user,
                "kind": notice.kind,
                "answer_path": consultation.get_absolute_url(),
                "stop_path": reverse(
                    "members:consultation_reminders_stop",
                    args=[opt_out_token(consultation=consultation, user=notice.user)],
                ),
            },
            connection=smtp,
        )

    still_due = ConsultationNotice.objects.select_related("consultation", "user").exclude(
        Exists(
            Response.objects.filter(
                consultation=OuterRef("consultation"),
                user=OuterRef("user"),
                submitted_at__isnull=False,
            )
        )
    )
    still_due = still_due.exclude(
        Exists(
            ReminderOptOut.objects.filter(
                consultation=OuterRef("consultation"), user=OuterRef("user")
            )
        ),
        kind__in=list(REMINDERS),
    )
    return recorded_notices_send(still_due, notice_ids, build)
