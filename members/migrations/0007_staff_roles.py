"""Staff roles for the back office: the new permissions, the Administrators
group (every staff permission), and what each team gains."""

from django.db import migrations

NEW = [
    ("members", "user", "find_members", "Can search members and read member records"),
    ("members", "user", "view_reports", "Can see reports and download their CSVs"),
    ("members", "user", "view_audit_trail", "Can read the whole audit trail"),
    ("members", "user", "handle_erasure", "Can confirm account erasure requests"),
]
EXISTING = [
    ("members", "membership", "manage_memberships", ""),
    ("accreditation", "application", "review_application", ""),
    ("accreditation", "certificate", "revoke_certificate", ""),
    ("events", "event", "run_events", ""),
]
TEAMS = {
    "Administrators": [codename for _, _, codename, _ in NEW + EXISTING],
    "Membership team": ["find_members", "view_reports"],
    "Accreditation assessors": ["view_reports"],
    "Events team": ["view_reports"],
}


def seed(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = {}
    for app_label, model, codename, name in NEW + EXISTING:
        content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
        permissions[codename], _ = Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name or codename}
        )
    for team_name, codenames in TEAMS.items():
        team, _ = Group.objects.get_or_create(name=team_name)
        team.permissions.add(*(permissions[codename] for codename in codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0006_directory_fields"),
        ("accreditation", "0002_seed_pathways_and_assessors"),
        ("events", "0002_events_team"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="user",
            options={
                "permissions": [
                    ("find_members", "Can search members and read member records"),
                    ("view_reports", "Can see reports and download their CSVs"),
                    ("view_audit_trail", "Can read the whole audit trail"),
                    ("handle_erasure", "Can confirm account erasure requests"),
                ],
                "verbose_name": "user",
                "verbose_name_plural": "users",
            },
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
