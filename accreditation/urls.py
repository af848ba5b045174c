from django.urls import path

from .views import assessor, member, public

app_name = "accreditation"

urlpatterns = [
    path("accreditation/pathways/", public.pathways, name="pathways"),
    path("accreditation/register/", public.register, name="register"),
    path("verify/", public.verify_search, name="verify_search"),
    path("verify/<str:code>/", public.verify, name="verify"),
    path("accreditation/", member.overview, name="overview"),
    path("accreditation/apply/", member.apply, name="apply"),
    path("accreditation/cpd/", member.cpd, name="cpd"),
    path(
        "accreditation/applications/<int:application_id>/",
        member.application_detail,
        name="application",
    ),
    path(
        "accreditation/applications/<int:application_id>/withdraw/",
        member.application_withdraw_view,
        name="withdraw",
    ),
    path(
        "accreditation/evidence/<int:evidence_id>/",
        member.evidence_download,
        name="evidence_download",
    ),
    path(
        "accreditation/evidence/<int:evidence_id>/view/",
        member.evidence_inline,
        name="evidence_inline",
    ),
    path(
        "accreditation/evidence/<int:evidence_id>/delete/",
        member.evidence_delete,
        name="evidence_delete",
    ),
    path(
        "accreditation/certificates/<int:certificate_id>/certificate.pdf",
        member.certificate_pdf,
        name="certificate_pdf",
    ),
    path(
        "accreditation/certificates/<int:certificate_id>/register/",
        member.certificate_listing,
        name="certificate_listing",
    ),
    path(
        "accreditation/certificates/<int:certificate_id>/revalidate/",
        member.revalidate,
        name="revalidate",
    ),
    path("staff/accreditation/", assessor.queue, name="staff_queue"),
    path("staff/accreditation/<int:application_id>/", assessor.review, name="staff_review"),
    path(
        "staff/accreditation/<int:application_id>/assign/",
        assessor.assign,
        name="staff_assign",
    ),
    path(
        "staff/accreditation/<int:application_id>/decide/",
        assessor.decide,
        name="staff_decide",
    ),
    path(
        "staff/accreditation/certificates/<int:certificate_id>/revoke/",
        assessor.revoke,
        name="staff_revoke",
    ),
]
