import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


class AddIndexOnPostgreSQL(migrations.AddIndex):
    """A GIN trigram index exists only on PostgreSQL: elsewhere (the SQLite
    file of a bare machine) the model state still gains it, the database
    does not, and search reads every row as before."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def trigram_index(field: str) -> AddIndexOnPostgreSQL:
    return AddIndexOnPostgreSQL(
        model_name="user",
        index=django.contrib.postgres.indexes.GinIndex(
            django.contrib.postgres.indexes.OpClass(
                django.db.models.functions.text.Upper(field), name="gin_trgm_ops"
            ),
            name=f"members_user_{field}_trgm",
        ),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0011_payment_attention"),
    ]

    operations = [
        # Does nothing on other databases.
        TrigramExtension(),
        trigram_index("first_name"),
        trigram_index("last_name"),
        trigram_index("email"),
    ]
