"""Re-encrypt every stored provider secret with the newest FIELD_ENCRYPTION_KEY."""

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from accounts import crypto
from accounts.models import ProviderAccount


class Command(BaseCommand):
    help = "Re-encrypt provider secrets with the first key of FIELD_ENCRYPTION_KEY (run after adding a new key)."

    def handle(self, *args, **options):
        table = ProviderAccount._meta.db_table
        columns = [ProviderAccount._meta.get_field(name).column for name in ProviderAccount.SECRET_FIELDS]
        count = 0
        with transaction.atomic(), connection.cursor() as cursor:
            # Raw values: the field would decrypt them on read.
            cursor.execute(f"SELECT id, {', '.join(columns)} FROM {table}")  # noqa: S608 - names from the model
            for row in cursor.fetchall():
                pk, values = row[0], row[1:]
                rotated = [crypto.rotate(value or "") for value in values]
                assignments = ", ".join(f"{column} = %s" for column in columns)
                cursor.execute(f"UPDATE {table} SET {assignments} WHERE id = %s", [*rotated, pk])
                count += 1
        self.stdout.write(f"Re-encrypted the secrets of {count} provider accounts.")
