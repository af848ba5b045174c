"""The apps above members add their panels to the member record and the
dashboard from their own panels.py."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from members import panels
from members.panels import DASHBOARD_PANELS, RECORD_PANELS, Panel, panels_load


def test_record_panels_come_from_each_app_in_layer_order():
    assert [(panel.name, panel.load.__module__) for panel in RECORD_PANELS] == [
        ("organisations", "members.organisations.panels"),
        ("register_import", "members.register_import.panels"),
        ("accreditation", "accreditation.panels"),
        ("cpd", "accreditation.panels"),
        ("events", "events.panels"),
    ]
    assert [(panel.name, panel.load.__module__) for panel in DASHBOARD_PANELS] == [
        ("consultations", "members.consultations.panels"),
        ("organisations", "members.organisations.panels"),
        ("accreditation", "accreditation.panels"),
        ("events", "events.panels"),
    ]


def test_a_panel_with_nothing_to_show_is_left_out():
    shown = panels_load(
        [
            Panel(name="empty", template="x.html", load=lambda **about: None),
            Panel(name="full", template="y.html", load=lambda **about: {"n": about["n"]}),
        ],
        n=3,
    )
    assert [(item.template, item.context) for item in shown] == [("y.html", {"n": 3})]


def test_a_panel_registered_twice_is_refused(monkeypatch):
    monkeypatch.setattr(panels, "RECORD_PANELS", list(RECORD_PANELS))
    with pytest.raises(ImproperlyConfigured, match="events"):
        panels.register_record_panel(RECORD_PANELS[-1])


@pytest.mark.django_db
def test_conditional_panels_are_read_in_one_query_and_only_loaded_when_they_hold(
    django_assert_num_queries,
):
    from django.db.models import Exists

    from members.models import Profile
    from tests.factories import UserFactory

    member = UserFactory()
    loaded = []

    def load(name):
        def run(**about):
            loaded.append(name)
            return {"name": name}

        return run

    def has_profile(*, member_id, today):
        return Exists(Profile.objects.filter(user=member_id))

    def has_no_profile(*, member_id, today):
        return ~Exists(Profile.objects.filter(user=member_id))

    page = [
        Panel(name="left_out", template="a.html", load=load("left_out"), shown_if=has_profile),
        Panel(
            name="empty",
            template="b.html",
            load=load("empty"),
            shown_if=has_profile,
            empty={"nothing": True},
        ),
        Panel(name="holds", template="c.html", load=load("holds"), shown_if=has_no_profile),
        Panel(name="always", template="d.html", load=load("always")),
    ]
    with django_assert_num_queries(1):
        shown = panels_load(page, member=member)
    assert loaded == ["holds", "always"]
    assert [(item.template, item.context) for item in shown] == [
        ("b.html", {"nothing": True}),
        ("c.html", {"name": "holds"}),
        ("d.html", {"name": "always"}),
    ]


@pytest.mark.django_db
def test_the_events_panel_shows_without_its_query_what_its_query_would_show():
    """``empty`` on the dashboard's events panel is what loading it gives a
    member with no registration that counts (unconfirmed ones do not)."""
    from events.models import Registration
    from tests.factories import active_member, event

    events_panel = next(panel for panel in DASHBOARD_PANELS if panel.name == "events")
    member = active_member()
    Registration.objects.create(
        event=event(), email=member.email, name="A Member", organisation="Surgery",
        role="Practice Manager", status=Registration.Status.UNCONFIRMED, user=member,
    )  # fmt: skip
    shown = panels_load([events_panel], member=member, membership=None)
    assert shown[0].context == events_panel.load(member=member, membership=None)
    assert shown[0].context == events_panel.empty
