"""Error summaries name the field ("Enter your email address"), never
"This field is required.", and a page has one summary, however many
forms it has."""

import re

import pytest
from django import forms
from django.urls import reverse

from accreditation.models import Application
from members.forms_rendering import required_message
from tests.factories import active_member
from tests.factories import event as make_event

GENERIC = "This field is required."

pytestmark = pytest.mark.django_db


def summaries(html: str) -> list[str]:
    """The items of each error summary on the page."""
    return [
        re.findall(r"<li>(?:<a [^>]*>)?(.*?)(?:</a>)?</li>", block)
        for block in re.findall(r'<div class="error-summary".*?</ul>', html, flags=re.S)
    ]


@pytest.mark.parametrize(
    ("field", "label", "message"),
    [
        (forms.EmailField(), "Email address", "Enter your email address."),
        (forms.CharField(), "Your job title", "Enter your job title."),
        (forms.CharField(), "ODS code", "Enter your ODS code."),
        (forms.ChoiceField(choices=[("a", "A")]), "Grade", "Select grade."),
        (
            forms.BooleanField(),
            "I have read the notice",
            "Tick the box to confirm: I have read the notice.",
        ),
        (forms.FileField(), "Evidence", "Choose a file for evidence."),
        (forms.CharField(), "Password (again)", "Enter your password again."),
    ],
)
def test_required_messages_are_named_from_the_label(field, label, message):
    assert required_message(field, label) == message


def test_a_form_keeps_its_own_required_message():
    class Form(forms.Form):
        reason = forms.CharField(error_messages={"required": "Give a reason."})
        email = forms.EmailField(label="Email address")

    form = Form(data={})
    assert form.errors == {
        "reason": ["Give a reason."],
        "email": ["Enter your email address."],
    }
    # The class's own field is untouched: only the form's copy is named.
    assert Form.base_fields["email"].error_messages["required"] == GENERIC


def test_sign_in_names_each_missing_field(client):
    html = client.post(reverse("account_login"), {}).content.decode()
    [items] = summaries(html)
    assert items == ["Enter your email.", "Enter your password."]
    assert GENERIC not in html


def test_sign_up_names_each_missing_field(client):
    html = client.post(reverse("account_signup"), {}).content.decode()
    [items] = summaries(html)
    assert GENERIC not in html
    assert len(items) == len(set(items)) >= 3


def test_profile_errors_name_the_fields(client, member):
    client.force_login(member)
    html = client.post(reverse("members:profile"), {}).content.decode()
    [items] = summaries(html)
    assert "Enter your first name." in items
    assert GENERIC not in html


def test_event_registration_errors_name_the_fields(client):
    event = make_event(title="NPM Day North West", members_only=False)
    html = client.post(event.get_absolute_url(), {}).content.decode()
    [items] = summaries(html)
    assert "Enter your email address." in items
    assert GENERIC not in html


def test_an_application_with_two_forms_has_one_summary(client, pathway):
    """Submitting an application with nothing filled in and no evidence
    fails both its forms: one summary lists both."""
    user = active_member()
    client.force_login(user)
    client.post(reverse("accreditation:apply"), {"pathway": pathway.pk})
    application = Application.objects.filter(applicant=user).latest("pk")
    response = client.post(
        reverse("accreditation:application", args=[application.pk]), {"submit": "1"}
    )
    html = response.content.decode()
    assert response.status_code == 400
    [items] = summaries(html)
    assert len(items) >= 2
    assert any("evidence" in item.lower() or "file" in item.lower() for item in items), items
    assert GENERIC not in html
