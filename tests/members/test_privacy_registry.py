"""The privacy registry covers every model that can hold a member's data."""

from django.apps import apps

from members.privacy.registry import NOT_PERSONAL, REGISTRY, personal_models_uncovered


def test_every_model_that_can_hold_a_members_data_is_in_the_registry():
    """Walks every installed model (allauth, admin and sessions included):
    anything with a foreign key path to the user, or an email or JSON field,
    must say how it is exported and erased, or why it holds nothing."""
    missing = personal_models_uncovered()
    assert not missing, (
        "models that can hold a member's data but are not in "
        f"members/privacy/registry.py (REGISTRY or NOT_PERSONAL): {missing}"
    )


def test_a_model_left_out_of_the_registry_is_named():
    """The walk finds models reached directly (Profile), through another
    model (Evidence via Application, Refund via Payment, MembershipNotice
    via MembershipPeriod), by an email field and by a JSON payload."""
    left_out = {
        "members.Profile",
        "accreditation.Evidence",
        "members.Refund",
        "members.MembershipNotice",
        "events.RegistrationEmail",
        "members.StripeEvent",
    }
    partial = [holding for holding in REGISTRY if holding.label not in left_out]
    assert set(personal_models_uncovered(partial)) == left_out


def test_reference_data_is_not_flagged():
    flagged = set(personal_models_uncovered([]))
    for label in ("members.Grade", "members.CareBoard", "accreditation.Pathway", "auth.Group"):
        assert label not in flagged
    # The user itself is where the walk starts.
    assert {"members.User", "account.EmailAddress", "mfa.Authenticator"} <= flagged


def test_registry_entries_are_real_distinct_models_with_distinct_sections():
    labels = [holding.label for holding in REGISTRY]
    assert len(labels) == len(set(labels))
    installed = {model._meta.label for model in apps.get_models(include_auto_created=True)}
    assert set(labels) <= installed
    assert set(NOT_PERSONAL) <= installed
    assert not set(NOT_PERSONAL) & set(labels)
    sections = [holding.section for holding in REGISTRY if holding.section]
    assert len(sections) == len(set(sections))


def test_what_is_not_exported_says_why():
    for holding in REGISTRY:
        assert holding.section or holding.not_exported, holding.label
        assert holding.erase.describe(), holding.label
    for label, reason in NOT_PERSONAL.items():
        assert reason.strip(), label
