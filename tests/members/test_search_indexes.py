"""Staff member search is answered from trigram indexes on PostgreSQL, not
by reading every member (benchmarks/member_search.py times it at 100,000)."""

import pytest
from django.db import connection

from members.backoffice.selectors import member_search
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def plan(query: str) -> str:
    # A handful of rows is cheaper to read in full, so the planner would
    # rightly skip any index: forbid reading the table or an index from end
    # to end, and a bitmap scan is possible only on an index that matches
    # the search's expressions.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
    return member_search(query=query).explain()


@pytest.mark.parametrize(
    ("query", "indexes"),
    [
        (
            "whit",
            [
                "members_user_first_name_trgm",
                "members_user_last_name_trgm",
                "members_user_email_trgm",
            ],
        ),
        ("whitfield@nhs", ["members_user_email_trgm"]),
    ],
)
def test_name_and_email_fragments_use_the_trigram_indexes(query, indexes):
    UserFactory(first_name="Siobhan", last_name="Whitfield", email="s.whitfield@nhs.net")

    shown = plan(query)

    for index in indexes:
        assert index in shown, shown
    assert "Seq Scan on members_user " not in shown


def test_trigram_indexes_still_find_fragments_anywhere_in_a_name():
    found = UserFactory(first_name="Joanna", last_name="Fairbrother", email="jf@nhs.net")
    UserFactory(first_name="Peter", last_name="Smith", email="ps@nhs.net")

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
    assert "_trgm" in member_search(query="ANN").explain()
    assert list(member_search(query="ANN")) == [found]
    assert list(member_search(query="brot")) == [found]
    assert list(member_search(query="jf@")) == [found]


def test_two_letters_find_the_start_of_a_name_from_the_trigram_indexes():
    found = UserFactory(first_name="Joanna", last_name="Fairbrother", email="jf@nhs.net")
    UserFactory(first_name="Marjorie", last_name="Ollerton", email="mo@nhs.net")

    shown = plan("jo")

    assert "_trgm" in shown, shown
    assert "'JO%'" in shown, shown  # Anchored: the whole index is not read.
    assert list(member_search(query="jo")) == [found]
