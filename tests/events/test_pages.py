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
    # the page's events and their total count
    with django_assert_num_queries(2):
        response = client.get(reverse("events:list"))
    assert response.content.decode().count('class="card"') == min(count, 30)


def test_event_list_pages_keep_the_filters(client):
    for _ in range(35):
        event(type="regional", region="london", is_online=False, venue="London")
    html = client.get(reverse("events:list"), {"region": "london"}).content.decode()
    assert "Page 1 of 2" in html
    assert 'href="?region=london&amp;page=2"' in html
    second = client.get(reverse("events:list"), {"region": "london", "page": 2}).content.decode()
    assert second.count('class="card"') == 5


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
