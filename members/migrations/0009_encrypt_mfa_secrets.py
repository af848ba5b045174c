"""Encrypt the two-factor secrets stored in plain text before
members.adapters.MFAAdapter sealed them (TOTP secrets, recovery-code seeds
and any codes migrated from elsewhere), with MFA_ENCRYPTION_KEY."""

from django.db import migrations

from members.adapters import mfa_decrypt, mfa_encrypt

# Every Fernet token starts with these characters (version byte 0x80, then
# the timestamp); no base32 TOTP secret, hex seed or digit code does.
FERNET_PREFIX = "gAAAAA"
SECRET_FIELDS = {"totp": ("secret",), "recovery_codes": ("seed",)}


def _convert(apps, seal: bool) -> None:
    Authenticator = apps.get_model("mfa", "Authenticator")
    for row in Authenticator.objects.filter(type__in=SECRET_FIELDS).iterator():
        data = dict(row.data)
        changed = False

        def convert(value: str) -> str:
            nonlocal changed
            if value.startswith(FERNET_PREFIX) == seal:
                return value  # already as wanted
            changed = True
            return mfa_encrypt(value) if seal else mfa_decrypt(value)

        for field in SECRET_FIELDS[row.type]:
            if isinstance(data.get(field), str):
                data[field] = convert(data[field])
        if isinstance(data.get("migrated_codes"), list):
            data["migrated_codes"] = [convert(code) for code in data["migrated_codes"]]
        if changed:
            row.data = data
            row.save(update_fields=["data"])


def encrypt_secrets(apps, schema_editor) -> None:
    _convert(apps, seal=True)


def decrypt_secrets(apps, schema_editor) -> None:
    _convert(apps, seal=False)


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0008_privacy"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(encrypt_secrets, decrypt_secrets)]
