"""Seed the recognised accreditation pathways and the assessors' group.

Pathways are reference data that staff edit in the admin afterwards; this
never overwrites a pathway that already exists.
"""

from django.db import migrations

QUALIFICATION_EVIDENCE = (
    "A copy of your certificate or transcript, showing your name, the "
    "qualification, the awarding body and the date awarded."
)
APPRENTICESHIP_EVIDENCE = (
    "Your apprenticeship completion certificate (or end-point assessment "
    "result) showing the standard, its level and the date completed."
)

PATHWAYS = [
    (
        "amspar",
        "AMSPAR qualifications in practice management",
        "AMSPAR (Education & Health Academy)",
        4,
        "qualification",
        "AMSPAR's diplomas and certificates in primary care and health "
        "services management, written for practice managers.",
        QUALIFICATION_EVIDENCE,
    ),
    (
        "ilm-level-7",
        "ILM Level 7 Diploma in Leadership and Management",
        "Institute of Leadership & Management (ILM)",
        7,
        "qualification",
        "Includes the PMA Senior Manager programme. Strategic leadership for "
        "senior managers in primary care.",
        QUALIFICATION_EVIDENCE,
    ),
    (
        "ilm",
        "ILM qualifications in leadership and management",
        "Institute of Leadership & Management (ILM)",
        5,
        "qualification",
        "ILM certificates and diplomas at Levels 3 to 5.",
        QUALIFICATION_EVIDENCE,
    ),
    (
        "cmi",
        "CMI qualifications in management and leadership",
        "Chartered Management Institute (CMI)",
        5,
        "qualification",
        "CMI awards, certificates and diplomas at Levels 5 to 7.",
        QUALIFICATION_EVIDENCE,
    ),
    (
        "ihscm",
        "IHSCM qualifications",
        "Institute of Health & Social Care Management (IHSCM)",
        None,
        "qualification",
        "Qualifications and membership routes of the IHSCM for health and social care managers.",
        QUALIFICATION_EVIDENCE,
    ),
    (
        "hfma",
        "HFMA qualifications in healthcare finance",
        "Healthcare Financial Management Association (HFMA)",
        None,
        "qualification",
        "HFMA's diplomas and certificates in healthcare finance and business.",
        QUALIFICATION_EVIDENCE,
    ),
    (
        "napc-diploma",
        "NAPC Diploma in Advanced Primary Care Management",
        "National Association of Primary Care (NAPC)",
        7,
        "qualification",
        "A one-year online programme at master's level for primary care managers.",
        QUALIFICATION_EVIDENCE,
    ),
    (
        "apprenticeship-l5",
        "Level 5 Operations or Departmental Manager apprenticeship",
        "Apprenticeship end-point assessment organisation",
        5,
        "apprenticeship",
        "The Level 5 apprenticeship standard for operations and departmental managers.",
        APPRENTICESHIP_EVIDENCE,
    ),
    (
        "apprenticeship-l6",
        "Level 6 Chartered Manager Degree Apprenticeship",
        "University and apprenticeship provider",
        6,
        "apprenticeship",
        "A management degree taken as an apprenticeship, leading to Chartered Manager status.",
        APPRENTICESHIP_EVIDENCE,
    ),
    (
        "apprenticeship-l7",
        "Level 7 Senior Leader apprenticeship",
        "Apprenticeship end-point assessment organisation",
        7,
        "apprenticeship",
        "The senior leader standard. Public funding for Level 7 ends for people "
        "aged 22 and over from January 2026.",
        APPRENTICESHIP_EVIDENCE,
    ),
    (
        "nhs-leadership-academy",
        "NHS Leadership Academy programmes",
        "NHS Leadership Academy",
        None,
        "qualification",
        "Programmes such as Mary Seacole, Rosalind Franklin and Elizabeth Garrett Anderson.",
        "Your programme completion certificate or award letter.",
    ),
    (
        "experiential",
        "Experience and portfolio route",
        "Institute of General Practice Management",
        None,
        "experiential",
        "For managers without a formal management qualification: most practice "
        "managers come with experience in finance and people. You show your "
        "experience against the NHS Management and Leadership Framework.",
        "A portfolio of evidence (for example job descriptions, appraisals, "
        "projects you led), the roles you have held with their dates, and two "
        "referees who know your work.",
    ),
]


def seed(apps, schema_editor):
    Pathway = apps.get_model("accreditation", "Pathway")
    for order, (slug, name, body, level, route, summary, evidence) in enumerate(PATHWAYS):
        Pathway.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "awarding_body": body,
                "rqf_level": level,
                "route_type": route,
                "summary": summary,
                "evidence_required": evidence,
                "display_order": order,
            },
        )
    ContentType = apps.get_model("contenttypes", "ContentType")
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    assessors, _ = Group.objects.get_or_create(name="Accreditation assessors")
    for model, codename, name in [
        ("application", "review_application", "Can review accreditation applications"),
        ("certificate", "revoke_certificate", "Can revoke accreditation certificates"),
    ]:
        content_type, _ = ContentType.objects.get_or_create(app_label="accreditation", model=model)
        permission, _ = Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
        assessors.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("accreditation", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
