"""Consultations in the member's data: attributed answers are exported and
erased with the member; anonymous answers are not theirs and stay."""

import io
import json
import zipfile

import pytest

from members.consultations import services
from members.consultations.models import AnonymousAnswer, Answer, Response
from members.privacy.archive import archive_write
from members.privacy.erase import member_erase
from tests.factories import active_member

from .world import consultation, full_answers, policy_officer

pytestmark = pytest.mark.django_db


def answered_both():
    member = active_member()
    attributed = consultation()
    anonymous = consultation(anonymous=True)
    services.response_submit(
        consultation=attributed,
        user=member,
        answers=full_answers(attributed, text="Attributed words"),
    )
    services.response_submit(
        consultation=anonymous, user=member, answers=full_answers(anonymous, text="Unlinked words")
    )
    return member


def test_the_export_has_attributed_answers_and_not_anonymous_ones():
    member = answered_both()
    out = io.BytesIO()
    archive_write(user=member, out=out)
    archive = zipfile.ZipFile(out)
    answers = json.loads(archive.read("consultation_answers.json"))
    responses = json.loads(archive.read("consultation_responses.json"))
    texts = [row.get("text") for row in answers]
    assert "Attributed words" in texts
    assert len(responses) == 2  # both answered; only one holds answers
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert b"Unlinked words" not in everything


def test_erasure_removes_attributed_answers_and_keeps_anonymous_ones():
    member = answered_both()
    member_erase(user=member, by=policy_officer())
    assert not Response.objects.filter(user=member).exists()
    assert not Answer.objects.exists()
    assert AnonymousAnswer.objects.filter(text="Unlinked words").exists()
