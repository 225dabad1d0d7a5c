import pytest
from cryptography.fernet import Fernet
from django.db import connection

from accounts import crypto
from accounts.models import ProviderAccount
from tests.factories import ProviderAccountFactory


def raw_column(account_id: int, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM accounts_provideraccount WHERE id = %s", [account_id])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_secrets_are_encrypted_at_rest_and_read_back():
    account = ProviderAccountFactory(api_key="KMzg2MSyxYTU6Z3Eynf154VMTNu2ksn", analytics_token="6f7267fb-9134")
    stored = raw_column(account.pk, "api_key")
    assert stored.startswith("fernet:")
    assert "KMzg2MSyxYTU6Z3Eynf154VMTNu2ksn" not in stored
    assert "6f7267fb" not in raw_column(account.pk, "analytics_token")
    assert ProviderAccount.objects.get(pk=account.pk).api_key == "KMzg2MSyxYTU6Z3Eynf154VMTNu2ksn"


@pytest.mark.django_db
def test_empty_secret_stays_empty():
    account = ProviderAccountFactory(analytics_token="")
    assert raw_column(account.pk, "analytics_token") == ""


@pytest.mark.django_db
def test_rotation_with_several_keys(settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    account = ProviderAccountFactory(api_key="rotate-me")
    before = raw_column(account.pk, "api_key")

    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    # Both keys decrypt; rotation re-encrypts with the newest.
    assert ProviderAccount.objects.get(pk=account.pk).api_key == "rotate-me"
    from django.core.management import call_command

    call_command("rotate_field_keys")
    after = raw_column(account.pk, "api_key")
    assert after != before
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert ProviderAccount.objects.get(pk=account.pk).api_key == "rotate-me"


def test_decrypt_with_unknown_key_says_what_happened(settings):
    token = crypto.encrypt("x")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(Exception, match="rotate_field_keys"):
        crypto.decrypt(token)
