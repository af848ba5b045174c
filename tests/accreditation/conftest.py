import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accreditation.models import Pathway

# The smallest files each format accepts, built by hand.
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def upload(name: str, content: bytes, content_type: str = "application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def pathway(db) -> Pathway:
    pathway, _ = Pathway.objects.get_or_create(
        slug="ilm-level-7",
        defaults={
            "name": "ILM Level 7 Diploma in Leadership and Management",
            "awarding_body": "Institute of Leadership & Management (ILM)",
            "rqf_level": 7,
            "route_type": "qualification",
            "summary": "Seeded for tests.",
            "evidence_required": "Your certificate.",
        },
    )
    return pathway


@pytest.fixture
def experiential(db) -> Pathway:
    pathway, _ = Pathway.objects.get_or_create(
        slug="experiential",
        defaults={
            "name": "Experience and portfolio route",
            "awarding_body": "Institute of General Practice Management",
            "route_type": "experiential",
            "summary": "Seeded for tests.",
            "evidence_required": "A portfolio.",
        },
    )
    return pathway
