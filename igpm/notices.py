"""Notices recorded before they are sent: one row per (owner, kind) under a
unique constraint, so a sweep that runs twice, or on two workers at once,
sends nothing twice. Used by the membership, certificate and event sweeps.
"""

import datetime

from django.core import mail
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

BATCH = 1000
# A recorded notice still unsent after this long is queued again.
RESEND_AFTER = datetime.timedelta(hours=1)


def notices_record(due, model, owner_column: str, kind: str):
    """Record a ``kind`` notice for each row of ``due`` that has none yet, a
    batch at a time, and yield each batch's new (notice id, owner id) pairs.

    ``model`` has a unique constraint on (``owner_column``, ``kind``) and a
    ``created_at``. The caller queues each batch as it comes: the rows are
    committed by then.
    """
    already = model.objects.filter(**{owner_column.removesuffix("_id"): OuterRef("pk")}, kind=kind)
    pending = due.filter(~Exists(already)).order_by("pk")
    last_pk = 0
    while owner_ids := list(pending.filter(pk__gt=last_pk).values_list("pk", flat=True)[:BATCH]):
        last_pk = owner_ids[-1]
        if new := notices_insert_once(model, owner_column, owner_ids, kind):
            yield new


def notices_insert_once(
    model, owner_column: str, owner_ids: list[int], kind: str
) -> list[tuple[int, int]]:
    """Insert one ``kind`` notice per owner unless it exists; return the new
    (notice id, owner id) pairs.

    ``ON CONFLICT DO NOTHING RETURNING`` (PostgreSQL, and SQLite 3.35+) tells
    exactly which rows this call created, so a concurrent sweep that got
    there first is never sent twice.
    """
    table = model._meta.db_table
    now = timezone.now()
    rows = ", ".join(["(%s, %s, %s)"] * len(owner_ids))
    params: list = []
    for owner_id in owner_ids:
        params += [owner_id, kind, now]
    sql = (
        f"INSERT INTO {table} ({owner_column}, kind, created_at) VALUES {rows} "  # noqa: S608
        f"ON CONFLICT ({owner_column}, kind) DO NOTHING RETURNING id, {owner_column}"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(notice_id, owner_id) for notice_id, owner_id in cursor.fetchall()]


def notices_requeue_unsent(model, enqueue) -> int:
    """Queue again, a batch at a time, recorded notices still unsent after
    ``RESEND_AFTER`` (a lost message, or a task that ran out of retries)."""
    stale = model.objects.filter(
        sent_at__isnull=True, created_at__lt=timezone.now() - RESEND_AFTER
    ).order_by("pk")
    requeued = 0
    last_pk = 0
    while ids := list(stale.filter(pk__gt=last_pk).values_list("pk", flat=True)[:BATCH]):
        enqueue(ids)
        requeued += len(ids)
        last_pk = ids[-1]
    return requeued


def recorded_notices_send(notices, notice_ids: list[int], build) -> int:
    """Send each unsent notice in ``notices`` once; return how many went.

    ``build(notice, connection)`` makes the email. Each notice is locked
    while it is sent, so a duplicate task skips it and then finds it sent.
    A failure leaves that notice unsent for a retry.
    """
    sent = 0
    with mail.get_connection() as smtp:
        for notice_id in notice_ids:
            with transaction.atomic():
                notice = (
                    notices.select_for_update(skip_locked=True, of=("self",))
                    .filter(pk=notice_id, sent_at__isnull=True)
                    .first()
                )
                if notice is None:
                    continue
                build(notice, smtp).send()
                notice.sent_at = timezone.now()
                notice.save(update_fields=["sent_at"])
                sent += 1
    return sent
