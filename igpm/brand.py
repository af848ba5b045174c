"""The organisation's name, contact details and logo, from settings and
the replaceable files in ``static/brand/`` (README, "Branding")."""

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders

LOGO_PNG = "brand/logo.png"
LOGO_SVG = "brand/logo.svg"
# The Content-ID emails refer to the attached logo by (RFC 2392).
LOGO_CID = "igpm-logo"


@dataclass(frozen=True)
class Organisation:
    name: str
    short_name: str
    contact_email: str
    contact_phone: str
    address: str
    registration: str
    site_url: str

    @property
    def address_lines(self) -> list[str]:
        return [line.strip() for line in self.address.split(",") if line.strip()]


def organisation() -> Organisation:
    return Organisation(
        name=settings.IGPM_NAME,
        short_name=settings.IGPM_SHORT_NAME,
        contact_email=settings.IGPM_CONTACT_EMAIL,
        contact_phone=settings.IGPM_CONTACT_PHONE,
        address=settings.IGPM_REGISTERED_ADDRESS,
        registration=settings.IGPM_REGISTRATION,
        site_url=settings.SITE_URL,
    )


def context_processor(request) -> dict:
    return {"org": organisation()}


def logo_path(name: str = LOGO_PNG) -> Path:
    """The logo on disk: ``static/brand/`` in a checkout, or the collected
    copy, so emails and PDFs never fetch it over the network."""
    found = finders.find(name)
    if found:
        return Path(found)
    return Path(settings.STATIC_ROOT) / name


@cache
def _read(path: Path, mtime: float) -> bytes:
    return path.read_bytes()


def logo_bytes(name: str = LOGO_PNG) -> bytes:
    path = logo_path(name)
    # Keyed on the modification time: a replaced logo is picked up
    # without a restart.
    return _read(path, path.stat().st_mtime)
