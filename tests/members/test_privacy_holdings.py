"""Each app registers its own privacy holdings; the registry keeps them in
erasure order and refuses a model registered twice."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from members.privacy import registry
from members.privacy.actions import Delete
from members.privacy.registry import REGISTRY, Holding


def test_holdings_come_from_each_apps_own_module_in_layer_order():
    modules = [holding.rows.__module__ for holding in REGISTRY]
    apps = [module.split(".")[0] for module in modules]
    first_accreditation = apps.index("accreditation")
    first_events = apps.index("events")
    assert set(apps[:first_accreditation]) == {"members"}
    assert set(apps[first_accreditation:first_events]) == {"accreditation"}
    # The account and the records about it are erased after every app's rows.
    assert [h.label for h in REGISTRY[-2:]] == ["admin.LogEntry", "members.User"]
    assert "accreditation.privacy" in modules and "events.privacy" in modules


def test_a_model_registered_twice_is_refused(monkeypatch):
    monkeypatch.setattr(registry, "_first", list(registry._first))
    monkeypatch.setattr(registry, "REGISTRY", list(REGISTRY))
    profile = REGISTRY[0]
    with pytest.raises(ImproperlyConfigured, match=r"members\.Profile"):
        registry.register(Holding(model=profile.model, rows=profile.rows, erase=Delete()))
