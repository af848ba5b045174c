"""What accreditation holds about a member, for the privacy registry:
applications with their evidence files, certificates and their reminders,
and the CPD log. Evidence comes first, so its files go before the
applications and CPD entries it belongs to."""

from django.db.models import Q, QuerySet

from members.privacy.actions import Anonymise, Custom, Delete, Erasing, Keep
from members.privacy.registry import Holding, register

from .models import Application, Certificate, CertificateNotice, CpdEntry, Evidence

APPLICATION_DETAILS = {
    "qualification_title": "",
    "awarding_body": "",
    "certificate_number": "",
    "date_achieved": None,
    "roles_held": "",
    "referee_1_name": "",
    "referee_1_email": "",
    "referee_1_relationship": "",
    "referee_2_name": "",
    "referee_2_email": "",
    "referee_2_relationship": "",
    "decision_reason": "",
}


def _applications_erase(rows: QuerySet, erasing: Erasing) -> int:
    # A certificate (kept) points at the application that earned it, so that
    # one stays, emptied of details; every other application goes.
    emptied = rows.filter(certificate__isnull=False).update(**APPLICATION_DETAILS)
    deleted, _ = rows.filter(certificate__isnull=True).delete()
    return emptied + deleted


register(
    Holding(
        model=Evidence,
        rows=lambda user: Evidence.objects.filter(
            Q(application__applicant=user) | Q(cpd_entry__user=user)
        ),
        erase=Delete(files=("file",)),
        section="evidence",
        about="Files you uploaded as evidence; the files are in files/evidence/.",
        files=("file",),
    ),
    Holding(
        model=Application,
        rows=lambda user: Application.objects.filter(applicant=user),
        erase=Custom(
            _applications_erase,
            "deleted, except one that earned a certificate, which is kept "
            "with its details and referees cleared",
        ),
        section="applications",
        about="Your accreditation applications, with referees and decisions.",
    ),
    Holding(
        model=Certificate,
        rows=lambda user: Certificate.objects.filter(holder=user),
        erase=Anonymise(
            {"holder_name": "", "on_public_register": False, "revoked_reason": ""},
            files=("pdf",),
        ),
        section="certificates",
        about="Your accreditation certificates; PDFs are in files/certificates/.",
        files=("pdf",),
    ),
    Holding(
        model=CertificateNotice,
        rows=lambda user: CertificateNotice.objects.filter(certificate__holder=user),
        erase=Keep("the kind and date of each reminder, nothing else"),
        section="certificate_notices",
        about="Certificate expiry reminders sent to you.",
    ),
    Holding(
        model=CpdEntry,
        rows=lambda user: CpdEntry.objects.filter(user=user),
        erase=Delete(),
        section="cpd",
        about="Your CPD log.",
    ),
)
