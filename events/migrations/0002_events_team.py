"""The events team's group, with the permission to run events."""

from django.db import migrations


def seed(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    event_type, _ = ContentType.objects.get_or_create(app_label="events", model="event")
    permission, _ = Permission.objects.get_or_create(
        content_type=event_type,
        codename="run_events",
        defaults={"name": "Can run events: attendee lists, check-in, cancellation"},
    )
    team, _ = Group.objects.get_or_create(name="Events team")
    team.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
