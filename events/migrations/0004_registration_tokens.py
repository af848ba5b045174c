"""Separate the three keys a registration had in one ``code``.

The old code becomes the private management token, so links in emails
already sent keep working. Every row gets a fresh check-in code for the
door. Unconfirmed rows get a deadline: their old confirmation links no
longer work, and the purge removes them once it passes.
"""

import datetime
import secrets

from django.db import migrations, models
from django.db.models import Q

import events.models

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def fill_codes(apps, schema_editor):
    Registration = apps.get_model("events", "Registration")
    used = set()
    for registration in Registration.objects.only("pk", "status", "created_at").iterator():
        code = ""
        while not code or code in used:
            code = "".join(secrets.choice(ALPHABET) for _ in range(8))
        used.add(code)
        registration.checkin_code = code
        fields = ["checkin_code"]
        if registration.status == "unconfirmed":
            registration.confirm_expires_at = registration.created_at + datetime.timedelta(
                hours=48
            )
            fields.append("confirm_expires_at")
        registration.save(update_fields=fields)


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0003_registration_anonymised_at"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="registration",
            name="events_one_live_registration_per_email",
        ),
        migrations.RenameField(
            model_name="registration",
            old_name="code",
            new_name="manage_token",
        ),
        migrations.AlterField(
            model_name="registration",
            name="manage_token",
            field=models.CharField(
                default=events.models.new_manage_token, max_length=64, unique=True
            ),
        ),
        migrations.AddField(
            model_name="registration",
            name="checkin_code",
            field=models.CharField(max_length=8, null=True),
        ),
        migrations.AddField(
            model_name="registration",
            name="confirm_token_hash",
            field=models.CharField(blank=True, max_length=64, null=True, unique=True),
        ),
        migrations.AddField(
            model_name="registration",
            name="confirm_expires_at",
            field=models.DateTimeField(blank=True, db_index=True, null=True),
        ),
        migrations.RunPython(fill_codes, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="registration",
            name="checkin_code",
            field=models.CharField(
                default=events.models.new_checkin_code, max_length=8, unique=True
            ),
        ),
        migrations.AddConstraint(
            model_name="registration",
            constraint=models.UniqueConstraint(
                condition=Q(status__in=["confirmed", "offered", "waiting"]),
                fields=("event", "email"),
                name="events_one_live_registration_per_email",
            ),
        ),
        migrations.AddConstraint(
            model_name="registration",
            constraint=models.UniqueConstraint(
                condition=Q(status="unconfirmed"),
                fields=("event", "email"),
                name="events_one_unconfirmed_registration_per_email",
            ),
        ),
    ]
