"""The Policy team, who run consultations, and the Administrators' share of
the new permission."""

from django.db import migrations

TEAMS = {
    "Policy team": ["run_consultations", "view_reports"],
    "Administrators": ["run_consultations"],
}


def seed(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    consultation, _ = ContentType.objects.get_or_create(app_label="members", model="consultation")
    user, _ = ContentType.objects.get_or_create(app_label="members", model="user")
    permissions = {
        "run_consultations": Permission.objects.get_or_create(
            content_type=consultation,
            codename="run_consultations",
            defaults={"name": "Can create, open and read consultations"},
        )[0],
        "view_reports": Permission.objects.get_or_create(
            content_type=user,
            codename="view_reports",
            defaults={"name": "Can see reports and download their CSVs"},
        )[0],
    }
    for team_name, codenames in TEAMS.items():
        team, _ = Group.objects.get_or_create(name=team_name)
        team.permissions.add(*(permissions[codename] for codename in codenames))


class Migration(migrations.Migration):
    dependencies = [("members", "0013_consultations")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
