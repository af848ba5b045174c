"""Seed the membership grades and the membership team's group.

Grades are data: staff change fees and wording in the admin afterwards.
Running this again creates nothing twice and overwrites nothing.
"""

from django.db import migrations

GRADES = [
    {
        "slug": "student",
        "name": "Student or Apprentice",
        "annual_fee_pence": 2500,
        "eligibility": "Studying towards a management qualification or on a management "
        "apprenticeship, and working in or towards general practice.",
        "post_nominals": "",
    },
    {
        "slug": "associate",
        "name": "Associate",
        "annual_fee_pence": 6500,
        "eligibility": "Assistant and deputy practice managers, and others who support "
        "the management of a practice.",
        "post_nominals": "AIGPM",
    },
    {
        "slug": "member",
        "name": "Member",
        "annual_fee_pence": 9500,
        "eligibility": "Practice managers, business and operations managers, PCN managers "
        "and non-clinical partners.",
        "post_nominals": "MIGPM",
    },
    {
        "slug": "fellow",
        "name": "Fellow",
        "annual_fee_pence": 15000,
        "eligibility": "Senior managers with at least ten years in primary care management "
        "and a record of leadership in the profession. By application: the membership "
        "team approves each one.",
        "post_nominals": "FIGPM",
        "requires_approval": True,
    },
    {
        "slug": "retired",
        "name": "Retired",
        "annual_fee_pence": 3000,
        "eligibility": "Former practice managers who have retired from paid work.",
        "post_nominals": "",
    },
]


def seed(apps, schema_editor):
    Grade = apps.get_model("members", "Grade")
    for order, grade in enumerate(GRADES):
        Grade.objects.get_or_create(slug=grade["slug"], defaults={**grade, "display_order": order})
    # Permissions are normally created after all migrations; the group needs
    # the membership one now (the later automatic pass finds it in place).
    ContentType = apps.get_model("contenttypes", "ContentType")
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    membership_type, _ = ContentType.objects.get_or_create(app_label="members", model="membership")
    permission, _ = Permission.objects.get_or_create(
        content_type=membership_type,
        codename="manage_memberships",
        defaults={"name": "Can approve, mark paid, refund and override memberships"},
    )
    team, _ = Group.objects.get_or_create(name="Membership team")
    team.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0003_membership_and_payments"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
