import pytest
from django.urls import reverse

from igpm.celery import app as celery_app

pytestmark = pytest.mark.django_db


def test_healthy_portal_reports_ok(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok"},
    }
    assert "no-cache" in response["Cache-Control"]


def test_unreachable_broker_gives_503(client, monkeypatch):
    # Nothing listens on port 1: the broker check must fail for real.
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "broker": "unavailable"}
