"""Every URL of the portal, against every kind of visitor.

Each named route has an entry saying what each role gets. A route added
without an entry fails ``test_every_route_has_an_entry``, so nobody ships a
page whose access rules were never written down.

Roles: ``anon`` (not signed in), ``owner`` (member A, whose payment,
application, evidence, certificate and registration the URLs point at),
``other`` (member B), ``staff`` (two-factor, no team), and the teams:
``membership``, ``assessor``, ``events``, ``policy``, and ``admin`` (Administrators,
who hold every team's permissions as well). The owner goes last, so an action
that changes things (withdraw, cancel) is tried by everyone else first.
"""

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client, TestCase
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accreditation.models import Evidence
from accreditation.services import application_approve, application_assign
from events.services import registration_check_in, registration_create
from members.billing.services.auto_renewal import stop_token
from members.consultations.forms import document_check
from members.consultations.notices import opt_out_token
from members.consultations.services import (
    consultation_close,
    consultation_publish,
    response_submit,
)
from members.models import AutoRenewal, OdsImport, Payment
from members.organisations.seats import seat_invitations_send
from members.privacy.services import data_export_build, data_export_request, erasure_request
from tests.accreditation.conftest import PDF, upload
from tests.accreditation.test_applications import submitted_application
from tests.conftest import ilm_level_7
from tests.factories import ProfileFactory, StaffFactory, confirm_token_issue, event
from tests.members.consultations.world import consultation, full_answers
from tests.members.register_import.world import register_imported

ROLES = [
    "anon",
    "other",
    "staff",
    "membership",
    "assessor",
    "events",
    "policy",
    "admin",
    "owner",
]
TEAMS = {
    "membership": "Membership team",
    "assessor": "Accreditation assessors",
    "events": "Events team",
    "policy": "Policy team",
    "admin": "Administrators",
}
# Groups of routes that belong to the libraries and are checked by one
# representative each.
LIBRARY_PREFIXES = ("admin/", "accounts/")


def every(status):
    return dict.fromkeys(ROLES, status)


def signed_in(status, anon=302):
    return {**every(status), "anon": anon}


def owned(owner=200, team=None, team_status=200):
    """The owner's thing: others get 404 so its existence is not revealed."""
    statuses = {**every(404), "anon": 302, "owner": owner}
    if team:
        statuses[team] = statuses["admin"] = team_status
    return statuses


def team_only(*teams, status=200):
    """Only these teams (and the administrators) get ``status``."""
    statuses = {**every(403), "anon": 302, "admin": status}
    for team in teams:
        statuses[team] = status
    return statuses


def staff_only(status=200):
    return {**every(status), "anon": 302, "owner": 403, "other": 403}


# name: (method, object the URL is about, expected status per role)
MATRIX = {
    "home": ("get", None, every(200)),
    "privacy": ("get", None, every(200)),
    "accessibility": ("get", None, every(200)),
    "healthz": ("get", None, every(200)),
    "members:dashboard": ("get", None, signed_in(200)),
    "members:profile": ("get", None, signed_in(200)),
    # For members in good standing only.
    "members:directory": ("get", None, {**signed_in(403), "owner": 200}),
    "members:grades": ("get", None, every(200)),
    # The owner is already a member; staff have no profile yet.
    "members:join": ("get", None, {**signed_in(302), "other": 200}),
    "members:pay": ("get", None, signed_in(302)),
    # Only a joiner with a grade chosen and a year to pay for has answers.
    "members:join_check": ("get", None, signed_in(302)),
    "members:certificate": ("get", None, owned()),
    "members:payment_detail": ("get", "payment", owned(team="membership")),
    "members:payment_offline": ("get", "payment", owned()),
    "members:payment_return": ("get", "payment", owned(team="membership")),
    "members:payment_receipt": ("get", "payment", owned(team="membership")),
    # The owner's own payment only; refused with a message when not a
    # recent card payment, still a redirect.
    "members:payment_refund_request": ("post", "payment", owned(owner=302)),
    "members:payment_invoice": ("get", "invoice", owned(team="membership")),
    "members:stripe_webhook": ("get", None, every(405)),
    # Automatic renewal: each answers with a redirect and a message when
    # there is nothing to do (no membership, no method, nothing to change).
    "members:auto_renewal_start": ("post", None, signed_in(302)),
    "members:auto_renewal_return": ("get", None, signed_in(302)),
    "members:auto_renewal_stop": ("post", None, signed_in(302)),
    "members:auto_renewal_payment_method": ("post", None, signed_in(302)),
    # The email's signed link is the key; a GET only asks.
    "members:auto_renewal_stop_link": ("get", "auto_renewal_token", every(200)),
    "members:auto_renewal_offline": ("get", "auto_renewal", owned()),
    # The offline demo: nothing to simulate for these visitors, so back to
    # the dashboard.
    "members:auto_renewal_simulate": ("post", None, signed_in(302)),
    "members:privacy": ("get", None, signed_in(200)),
    # Asking again within the hour is refused with a message: still a redirect.
    "members:privacy_export": ("post", None, signed_in(302)),
    "members:privacy_download": ("get", "export", owned()),
    "members:privacy_erasure": ("get", None, signed_in(200)),
    "members:privacy_erasure_cancel": ("post", None, signed_in(302)),
    # Erasure is for the Administrators only (members.handle_erasure).
    "members:staff_erasure_requests": ("get", None, team_only()),
    "members:staff_erasure_request": ("get", "erasure", team_only()),
    "members:staff_erasure_decide": ("post", "erasure", team_only(status=400)),
    "members:staff_home": ("get", None, staff_only()),
    "members:staff_members": ("get", None, team_only("membership")),
    "members:staff_member": ("get", "member", team_only("membership")),
    "members:staff_audit": ("get", None, team_only()),
    "members:staff_approvals": ("get", None, team_only("membership")),
    "members:staff_membership": ("get", "membership", team_only("membership")),
    "members:staff_membership_decision": (
        "post",
        "membership",
        team_only("membership", status=400),
    ),
    "members:staff_membership_override": (
        "post",
        "membership",
        team_only("membership", status=400),
    ),
    "members:staff_payment_mark_paid": ("post", "payment", team_only("membership", status=302)),
    "members:staff_payment_mark_paid_confirm": (
        "get",
        "invoice",
        team_only("membership"),
    ),
    "members:staff_payment_invoice_resend": (
        "post",
        "invoice",
        team_only("membership", status=302),
    ),
    "members:staff_payment_refund": ("post", "payment", team_only("membership", status=400)),
    "members:staff_attention": ("get", None, team_only("membership")),
    # An empty action form: refused with its message beside the field.
    "members:staff_attention_action": (
        "post",
        "payment",
        team_only("membership", status=400),
    ),
    # Every team sees the reports; only those who may find members get the
    # member list, which is personal data.
    "members:staff_reports": (
        "get",
        None,
        team_only("membership", "assessor", "events", "policy"),
    ),
    "members:staff_report_csv": (
        "get",
        "report",
        team_only("membership", "assessor", "events", "policy"),
    ),
    # Consultations: the owner is in the audience and has answered; other
    # signed-in people are not in its audience (members only).
    "members:consultations": ("get", None, signed_in(200)),
    "members:consultation": ("get", "consultation", owned()),
    "members:consultation_done": ("get", "consultation", owned()),
    # Published to members: everyone signed in may read it.
    "members:consultation_document": (
        "get",
        "consultation",
        {**every(404), "anon": 302, "owner": 200, "policy": 200, "admin": 200},
    ),
    "members:consultation_summary": ("get", "summary", {**every(200), "anon": 404}),
    # The reminder link's signed token is the key.
    "members:consultation_reminders_stop": ("get", "stop_token", every(200)),
    "members:staff_consultations": ("get", None, team_only("policy")),
    "members:staff_consultation_new": ("get", None, team_only("policy")),
    "members:staff_consultation": ("get", "consultation", team_only("policy")),
    "members:staff_question_add": ("post", "consultation", team_only("policy", status=400)),
    "members:staff_question": ("get", "question", team_only("policy")),
    "members:staff_question_move": ("post", "question", team_only("policy", status=400)),
    "members:staff_consultation_state": (
        "post",
        "consultation",
        team_only("policy", status=400),
    ),
    "members:staff_consultation_results": ("get", "consultation", team_only("policy")),
    "members:staff_consultation_results_csv": ("get", "consultation", team_only("policy")),
    "members:staff_consultation_publish": ("get", "consultation", team_only("policy")),
    "members:staff_report_section": (
        "get",
        "section",
        team_only("membership", "assessor", "events", "policy"),
    ),
    "members:staff_member_export": ("get", None, team_only("membership")),
    # Importing an existing register: the membership team only.
    "members:staff_register_imports": ("get", None, team_only("membership")),
    "members:staff_register_import": ("get", "register_import", team_only("membership")),
    "members:staff_register_import_progress": (
        "get",
        "register_import",
        team_only("membership"),
    ),
    # Already imported: refused with its message on the page.
    "members:staff_register_import_start": (
        "post",
        "register_import",
        team_only("membership", status=400),
    ),
    # Not waiting for ticks, or nothing stopped: back to the page with a message.
    "members:staff_register_rows_choose": (
        "post",
        "register_import",
        team_only("membership", status=302),
    ),
    "members:staff_register_import_resume": (
        "post",
        "register_import",
        team_only("membership", status=302),
    ),
    "members:staff_claim_resend": ("post", "imported_member", team_only("membership", status=302)),
    "members:staff_renewal_invoice": ("get", "imported_member", team_only("membership")),
    # The claim link's signed token is the key (a GET only shows the form).
    "members:account_claim": ("get", "claim_token", every(200)),
    # The practice search behind the profile's picker: anyone signed in.
    "members:practice_search": ("get", None, signed_in(200)),
    "members:staff_practice_codes": ("get", None, team_only("membership")),
    # The ODS import is the Administrators' (members.run_ods_import).
    "members:staff_ods_import": ("get", "ods_import", team_only()),
    "members:staff_ods_import_progress": ("get", "ods_import", team_only()),
    # Organisation accounts: the owner administers the account; nobody
    # else (staff included) sees its pages, which 404 so an account's
    # existence is not revealed. Empty forms are refused (400).
    "members:organisations": ("get", None, signed_in(200)),
    "members:organisation_new": ("get", None, signed_in(200)),
    "members:organisation": ("get", "organisation", owned()),
    "members:organisation_buy": ("get", "organisation", owned()),
    "members:organisation_auto_renewal_start": ("post", "organisation", owned(owner=302)),
    "members:organisation_auto_renewal_return": ("get", "organisation", owned(owner=302)),
    "members:organisation_auto_renewal_stop": ("post", "organisation", owned(owner=302)),
    "members:organisation_invite": ("post", "organisation", owned(owner=400)),
    "members:organisation_administrator_add": ("post", "organisation", owned(owner=400)),
    "members:organisation_seat_free": ("get", "seat_holding", owned()),
    "members:organisation_seat_swap": ("get", "seat_holding", owned()),
    "members:organisation_invitation_withdraw": ("post", "seat_invitation", owned(owner=302)),
    "members:organisation_payment_return": ("get", "organisation_payment", owned(owner=302)),
    "members:organisation_document": ("get", "organisation_invoice", owned()),
    # The emailed link's token is the key; accepting needs the invited address.
    "members:seat_invitation": ("get", "seat_token", signed_in(200)),
    # Only the holder reaches their seat's page (tested with a holder in
    # tests/members/organisations/test_views.py); the owner holds none.
    "members:seat_leave": ("get", "seat_holding_alone", {**every(404), "anon": 302}),
    "members:staff_organisations": ("get", None, team_only("membership")),
    "members:staff_organisation": ("get", "organisation", team_only("membership")),
    # The first team member to click marks it paid; the next is told so.
    "members:staff_organisation_invoice_paid": (
        "post",
        "organisation_open_invoice",
        team_only("membership", status=302),
    ),
    "members:staff_organisation_invoice_resend": (
        "post",
        "organisation_open_invoice",
        team_only("membership", status=302),
    ),
    "members:staff_organisation_refund": (
        "get",
        "organisation_payment",
        team_only("membership"),
    ),
    "members:staff_organisation_document": (
        "get",
        "organisation_invoice",
        team_only("membership"),
    ),
    "accreditation:pathways": ("get", None, every(200)),
    "accreditation:register": ("get", None, every(200)),
    "accreditation:verify_search": ("get", None, every(200)),
    "accreditation:verify": ("get", "code", every(200)),
    "accreditation:overview": ("get", None, signed_in(200)),
    "accreditation:apply": ("get", None, signed_in(200)),
    "accreditation:cpd": ("get", None, signed_in(200)),
    "accreditation:application": ("get", "application", owned()),
    "accreditation:withdraw": ("post", "application", owned(owner=302)),
    "accreditation:evidence_download": ("get", "evidence", owned(team="assessor")),
    "accreditation:evidence_inline": ("get", "evidence", owned(team="assessor")),
    "accreditation:evidence_delete": ("post", "evidence", owned(owner=302)),
    "accreditation:certificate_pdf": ("get", "certificate", owned(team="assessor")),
    "accreditation:certificate_listing": ("post", "certificate", owned(owner=302)),
    "accreditation:revalidate": ("post", "certificate", owned(owner=302)),
    "accreditation:staff_queue": ("get", None, team_only("assessor")),
    "accreditation:staff_review": ("get", "application", team_only("assessor")),
    "accreditation:staff_assign": ("post", "application", team_only("assessor", status=302)),
    "accreditation:staff_decide": ("post", "application", team_only("assessor", status=400)),
    "accreditation:staff_revoke": ("post", "certificate", team_only("assessor", status=400)),
    "events:list": ("get", None, every(200)),
    "events:feed": ("get", None, every(200)),
    "events:detail": ("get", "slug", every(200)),
    "events:ics": ("get", "slug", every(200)),
    "events:check_email": ("get", "slug", every(200)),
    "events:my_events": ("get", None, signed_in(200)),
    # Registration links carry an unguessable token: having it is the key.
    "events:registration": ("get", "registration", every(200)),
    # A visitor's single-use confirmation link (a GET shows the button).
    "events:confirm": ("get", "confirm", every(200)),
    # GET asks for confirmation; POST cancels.
    "events:cancel": ("post", "registration", every(302)),
    "events:accept": ("post", "registration", every(302)),
    "events:certificate": ("get", "registration", every(200)),
    "events:staff_overview": ("get", None, team_only("events")),
    "events:staff_attendees": ("get", "event", team_only("events")),
    "events:staff_attendees_csv": ("get", "event", team_only("events")),
    "events:staff_check_in": ("post", "event", team_only("events", status=302)),
    # One representative for each library's routes.
    "admin:index": ("get", None, {**staff_only(), "anon": 302}),
    "account_email": ("get", None, signed_in(200)),
}


def named_routes(resolver=None, namespace="") -> set[str]:
    names = set()
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            if str(pattern.pattern).startswith(LIBRARY_PREFIXES):
                continue
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            names |= named_routes(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(namespace + pattern.name)
    return names


def test_every_route_has_an_entry():
    missing = named_routes() - set(MATRIX)
    assert not missing, f"routes without an access entry in the matrix: {sorted(missing)}"


def organisation_world(owner) -> dict:
    """An account the owner administers, with a paid year of two seats (one
    held, one invitation open), and a second account with an open invoice."""
    from members.organisations.seats import organisation_order
    from tests.members.organisations.world import (
        account,
        invoice,
        paid_year,
        seat_grade,
        seat_holder,
    )

    acct, _ = account(admin=owner)
    year, _ = paid_year(seats=2, acct=acct, admin=owner)
    _, holding = seat_holder(year, owner)
    [invitation] = seat_invitations_send(year=year, emails=["invited@example.org"], by=owner)
    paid = Payment.objects.get(organisation_membership=year)
    other, _ = account(admin=owner, name="Hilltop Surgery", ods_code="B82002")
    order = organisation_order(account=other, grade=seat_grade(), seats=1, by=owner)
    open_invoice = invoice(order, owner)
    return {
        "organisation": acct.pk,
        "seat_holding": [acct.pk, holding.pk],
        "seat_invitation": [acct.pk, invitation.pk],
        "organisation_payment": [acct.pk, paid.pk],
        "organisation_invoice": [acct.pk, paid.pk, "invoice"],
        "organisation_open_invoice": [other.pk, open_invoice.pk],
        "seat_token": invitation.token,
        "seat_holding_alone": holding.pk,
    }


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Everything the routes are asked about, made once for the module's
    tests: in a transaction rolled back when the module ends, inside which
    each test has a savepoint of its own (as ``TestCase.setUpTestData``,
    though the objects are shared, not copied for each test).

    The database is open to the whole module while it lasts, and every test
    runs inside that transaction: a test here must be ``django_db`` and not
    transactional (no ``live_server``), and nothing it reaches may open a
    durable atomic block."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield _world()
        transaction.set_rollback(True)


def _world() -> dict:
    callbacks = TestCase.captureOnCommitCallbacks
    pathway = ilm_level_7()
    client = Client()
    with callbacks(execute=True):
        application = submitted_application(client, pathway)
        owner = application.applicant
        reviewer = StaffFactory(mfa=True)
        reviewer.groups.add(Group.objects.get(name=TEAMS["assessor"]))
        approved = submitted_application(client, pathway, user=owner)
        application_assign(application=approved, assessor=reviewer)
        certificate = application_approve(application=approved, by=reviewer)
        ev = event()
        registration = registration_create(
            event=ev,
            user=owner,
            name=owner.get_full_name(),
            email=owner.email,
            organisation="Riverside Surgery",
            role="Practice Manager",
        )
        registration_check_in(registration=registration, by=reviewer)
        visitor = registration_create(
            event=ev,
            name="Val Visitor",
            email="val@example.org",
            organisation="Hilltop Surgery",
            role="Receptionist",
        )
    membership = owner.membership
    payment = Payment.objects.get(membership=membership, status="paid")
    invoice = Payment.objects.create(
        membership=membership,
        user=owner,
        grade=membership.grade,
        purpose="renew",
        method="invoice",
        amount_pence=9500,
        invoice_number="INV-MATRIX-1",
        invoice_organisation="Riverside Surgery",
    )
    auto_renewal = AutoRenewal.objects.create(
        membership=membership, method="card", grade=membership.grade
    )
    export = data_export_request(user=owner)
    data_export_build(export_id=export.pk)
    erasure = erasure_request(user=ProfileFactory().user)
    asked = consultation(document=document_check(upload("briefing.pdf", PDF)))
    response_submit(consultation=asked, user=owner, answers=full_answers(asked))
    summarised = consultation()
    consultation_close(consultation=summarised, by=None)
    consultation_publish(consultation=summarised, by=reviewer, to="members")
    organisations = organisation_world(owner)
    users = {"owner": owner, "other": ProfileFactory().user, "staff": StaffFactory(mfa=True)}
    register, imported_member, claim = register_imported(reviewer, callbacks)
    for role, group in TEAMS.items():
        users[role] = StaffFactory(mfa=True)
        users[role].groups.add(Group.objects.get(name=group))
    return {
        "users": users,
        "payment": payment.pk,
        "invoice": invoice.pk,
        "membership": membership.pk,
        "member": owner.pk,
        "application": application.pk,
        "evidence": Evidence.objects.get(application=application).pk,
        "certificate": certificate.pk,
        "code": certificate.verification_code,
        "slug": ev.slug,
        "event": ev.pk,
        "registration": registration.manage_token,
        "confirm": confirm_token_issue(visitor),
        "export": export.token,
        "erasure": erasure.pk,
        "report": "movement",
        "consultation": asked.pk,
        "question": asked.questions.first().pk,
        "summary": summarised.pk,
        "stop_token": opt_out_token(consultation=asked, user=owner),
        "auto_renewal": auto_renewal.pk,
        "auto_renewal_token": stop_token(auto_renewal),
        "section": "retention",
        "register_import": register.pk,
        "imported_member": imported_member.pk,
        "claim_token": claim,
        "ods_import": OdsImport.objects.create().pk,
        **organisations,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_route_gives_each_role_what_the_matrix_says(world, name):
    method, about, expected = MATRIX[name]
    args = world[about] if about else []
    url = reverse(name, args=args if isinstance(args, list) else [args])
    seen = {}
    for role in ROLES:
        client = Client()
        if role != "anon":
            client.force_login(world["users"][role])
        seen[role] = getattr(client, method)(url).status_code
    assert seen == expected, f"{name} ({method.upper()} {url})"
