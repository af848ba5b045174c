"""Organisations' part of the demo data (``members.demo``): an
organisation grade priced per seat and one banded by list size, and an
account run by the demo member with a paid year of three seats."""

from members.demo import register
from members.models import (
    Grade,
    OrganisationAccount,
    OrganisationFeeBand,
    OrganisationGrade,
    Payment,
    User,
)

from .seats import organisation_account_create, organisation_order


@register
def organisations_seed() -> None:
    if OrganisationGrade.objects.exists():
        return
    member = Grade.objects.get(slug="member")
    seats = OrganisationGrade.objects.create(
        name="Practice seats",
        slug="practice-seats",
        member_grade=member,
        pricing=OrganisationGrade.Pricing.PER_SEAT,
        seat_fee_pence=8500,
    )
    banded = OrganisationGrade.objects.create(
        name="Practice seats by list size",
        slug="practice-seats-banded",
        member_grade=member,
        pricing=OrganisationGrade.Pricing.BANDED,
        display_order=1,
    )
    OrganisationFeeBand.objects.bulk_create(
        [
            OrganisationFeeBand(grade=banded, up_to_list_size=6000, seat_fee_pence=7500),
            OrganisationFeeBand(grade=banded, up_to_list_size=12000, seat_fee_pence=8500),
            OrganisationFeeBand(grade=banded, up_to_list_size=None, seat_fee_pence=9500),
        ]
    )
    if OrganisationAccount.objects.exists():
        return
    amara = User.objects.get(email="amara.okafor@example.org")
    account = organisation_account_create(
        by=amara,
        name="Riverside Medical Centre",
        kind=OrganisationAccount.Kind.PRACTICE,
        ods_code="A81001",
        list_size=9400,
    )
    from members.billing.services.payments import payment_fulfil

    order = organisation_order(account=account, grade=seats, seats=3, by=amara)
    payment = Payment.objects.create(
        organisation_membership=order,
        user=amara,
        grade=member,
        purpose=Payment.Purpose.JOIN,
        method=Payment.Method.OFFLINE,
        amount_pence=order.amount_pence,
    )
    payment_fulfil(payment_id=payment.pk, actor_label="demo data")
