"""Grades are data that staff keep in the admin, as the README says."""

import pytest
from django.urls import reverse

from members.models import Grade
from tests.factories import StaffFactory


@pytest.mark.django_db
def test_staff_change_a_grade_fee_in_the_admin(client):
    client.force_login(StaffFactory(mfa=True, is_superuser=True))
    grade = Grade.objects.get(slug="member")
    listing = client.get(reverse("admin:members_grade_changelist"))
    assert listing.status_code == 200
    assert grade.fee_display in listing.content.decode()

    url = reverse("admin:members_grade_change", args=[grade.pk])
    form = {
        "name": grade.name,
        "slug": grade.slug,
        "annual_fee_pence": "10500",
        "eligibility": grade.eligibility,
        "requires_approval": "on" if grade.requires_approval else "",
        "post_nominals": grade.post_nominals,
        "is_active": "on",
        "display_order": str(grade.display_order),
    }
    response = client.post(url, {k: v for k, v in form.items() if v != ""})
    assert response.status_code == 302
    grade.refresh_from_db()
    assert grade.annual_fee_pence == 10500


@pytest.mark.django_db
def test_members_without_staff_status_cannot_open_the_grades(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    response = client.get(reverse("admin:members_grade_changelist"))
    assert response.status_code in (302, 403)
