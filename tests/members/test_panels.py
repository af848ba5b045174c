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
