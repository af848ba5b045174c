"""Two-factor secrets are kept encrypted, and never shown in the admin."""

import importlib

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt, encrypt
from cryptography.fernet import Fernet
from django.apps import apps
from django.db import connection
from django.urls import reverse

from members.demo import STAFF_TOTP_SECRET
from tests.factories import PASSWORD, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

SECRET = "JBSWY3DPEHPK3PXPSECRETTE"


def stored_data(authenticator: Authenticator) -> str:
    """The row's data column as the database holds it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT data::text FROM mfa_authenticator WHERE id = %s", [authenticator.pk]
        )
        return cursor.fetchone()[0]


def current_code(secret: str) -> str:
    import time

    from allauth.mfa import app_settings

    return format_hotp_value(hotp_value(secret, int(time.time()) // app_settings.TOTP_PERIOD))


def test_the_totp_secret_is_not_in_the_database_in_plain_text():
    user = UserFactory()
    authenticator = TOTP.activate(user, SECRET).instance
    raw = stored_data(authenticator)
    assert SECRET not in raw
    assert decrypt(Authenticator.objects.get(pk=authenticator.pk).data["secret"]) == SECRET


def test_the_recovery_code_seed_is_not_in_the_database_in_plain_text():
    user = UserFactory()
    codes = RecoveryCodes.activate(user)
    seed = decrypt(codes.instance.data["seed"])
    assert seed not in stored_data(codes.instance)
    assert RecoveryCodes(codes.instance).validate_code(codes.generate_codes()[0])


def test_staff_sign_in_with_an_encrypted_secret(client):
    staff = StaffFactory(mfa=False, email="staff@example.org")
    TOTP.activate(staff, SECRET)
    response = client.post(reverse("account_login"), {"login": staff.email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": current_code(SECRET)})
    assert response.status_code == 302
    assert client.get(reverse("members:staff_home")).status_code == 200


def test_an_old_key_still_opens_secrets_after_the_key_is_rotated(settings):
    old_key = settings.MFA_ENCRYPTION_KEY
    sealed = encrypt(SECRET)
    settings.MFA_ENCRYPTION_KEY = Fernet.generate_key().decode()
    settings.MFA_ENCRYPTION_OLD_KEYS = [old_key]
    assert decrypt(sealed) == SECRET
    # New secrets are sealed with the new key only.
    settings.MFA_ENCRYPTION_OLD_KEYS = []
    assert decrypt(encrypt(SECRET)) == SECRET
    with pytest.raises(Exception, match="cannot be decrypted"):
        decrypt(sealed)


def test_the_migration_encrypts_secrets_stored_before_it_and_can_undo_it():
    user = UserFactory()
    plain_totp = Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": SECRET}
    )
    plain_codes = Authenticator.objects.create(
        user=user,
        type=Authenticator.Type.RECOVERY_CODES,
        data={"seed": "ab" * 40, "used_mask": 0, "migrated_codes": ["12345678"]},
    )
    migration = importlib.import_module("members.migrations.0009_encrypt_mfa_secrets")
    migration.encrypt_secrets(apps, None)
    migration.encrypt_secrets(apps, None)  # twice changes nothing more
    for row in (plain_totp, plain_codes):
        raw = stored_data(row)
        assert SECRET not in raw and "ab" * 40 not in raw and "12345678" not in raw
    assert TOTP(Authenticator.objects.get(pk=plain_totp.pk)).validate_code(current_code(SECRET))
    codes = RecoveryCodes(Authenticator.objects.get(pk=plain_codes.pk))
    assert codes.generate_codes() == ["12345678"]

    migration.decrypt_secrets(apps, None)
    assert Authenticator.objects.get(pk=plain_totp.pk).data["secret"] == SECRET


def test_the_demo_staff_secret_still_gives_codes(settings, capsys):
    from django.core.management import call_command

    from members.demo import STAFF_EMAIL

    staff = StaffFactory(mfa=False, email=STAFF_EMAIL)
    TOTP.activate(staff, STAFF_TOTP_SECRET)
    settings.DEBUG = True
    call_command("totp_code")
    assert capsys.readouterr().out.strip() == current_code(STAFF_TOTP_SECRET)


def test_the_admin_never_shows_a_secret(client):
    admin = StaffFactory(mfa=False, is_superuser=True)
    authenticator = TOTP.activate(admin, SECRET).instance
    client.force_login(admin)
    url = reverse("admin:mfa_authenticator_change", args=[authenticator.pk])
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert authenticator.data["secret"] not in html
    assert "secret" not in html.lower()
    assert client.get(reverse("admin:mfa_authenticator_add")).status_code == 403
