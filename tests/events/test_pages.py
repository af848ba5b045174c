"""Event pages: what they show, to whom, and at what cost."""

import pytest
from django.urls import reverse

from events.models import Event
from tests.factories import event

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("count", [1, 60])
def test_event_list_query_count_is_flat(client, django_assert_num_queries, count):
    for _ in range(count):
        event()
    with django_assert_num_queries(1):
        response = client.get(reverse("events:list"))
    assert response.content.decode().count('class="card"') == count


def test_list_filters_by_type_and_region_and_hides_drafts(client):
    webinar = event(title="Rota planning webinar")
    regional = event(
        title="North West managers' meeting",
        type=Event.Type.REGIONAL,
        region=Event.Region.NORTH_WEST,
        is_online=False,
        venue="Bolton",
    )
    event(title="Draft idea", status=Event.Status.DRAFT)
    html = client.get(reverse("events:list")).content.decode()
    assert "Rota planning webinar" in html
    assert "Draft idea" not in html
    html = client.get(reverse("events:list"), {"region": "north_west"}).content.decode()
    assert regional.title.replace("'", "&#x27;") in html
    assert webinar.title not in html
    html = client.get(reverse("events:list"), {"type": "webinar"}).content.decode()
    assert webinar.title in html
    assert client.get(reverse("events:detail", args=["no-such-event"])).status_code == 404


def test_drafts_have_no_public_page(client):
    draft = event(status=Event.Status.DRAFT)
    assert client.get(reverse("events:detail", args=[draft.slug])).status_code == 404
    assert client.get(reverse("events:ics", args=[draft.slug])).status_code == 404


def test_npm_day_lists_its_local_celebrations_by_region(client):
    day = event(title="National Practice Manager Day", type=Event.Type.NPM_DAY)
    event(title="London lunch", type=Event.Type.NPM_DAY, umbrella=day, region="london")
    event(title="Cardiff celebration", type=Event.Type.NPM_DAY, umbrella=day, region="wales")
    html = client.get(reverse("events:detail", args=[day.slug])).content.decode()
    assert "London lunch" in html
    assert "Cardiff celebration" in html
    html = client.get(
        reverse("events:detail", args=[day.slug]), {"region": "wales"}
    ).content.decode()
    assert "Cardiff celebration" in html
    assert "London lunch" not in html


def test_bad_registration_input_is_explained_and_kept(client):
    ev = event()
    response = client.post(
        reverse("events:detail", args=[ev.slug]),
        {"name": "", "email": "not-an-email", "organisation": "Riverside", "role": ""},
    )
    assert response.status_code == 400
    html = response.content.decode()
    for field in ("name", "email", "role"):
        assert f'id="id_{field}_error"' in html
    assert 'value="Riverside"' in html
    assert 'value="not-an-email"' in html
    assert not ev.registrations.exists()
