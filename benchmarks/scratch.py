"""The scratch PostgreSQL database each benchmark builds and drops."""

import psycopg
from django.conf import settings
from psycopg import sql


def recreate_database(*, drop_only: bool = False) -> None:
    """Drop the configured database and (unless ``drop_only``) create it
    empty. Refuses any database whose name lacks "bench"."""
    db = settings.DATABASES["default"]
    # The name comes from the environment: refuse anything not meant for this.
    if "bench" not in db["NAME"]:
        raise SystemExit(f"Refusing to drop database {db['NAME']!r}: name lacks 'bench'.")
    params = {key.lower(): db[key] for key in ("USER", "PASSWORD", "HOST", "PORT") if db[key]}
    # autocommit: CREATE/DROP DATABASE cannot run inside a transaction.
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        name = sql.Identifier(db["NAME"])
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
