"""The API's database role: DML on the API's tables and nothing else, kept up to date by migrate.

The owner (MIGRATE_DATABASE_URL) runs the migrations; the API connects as the role named in
DATABASE_URL, which can read and write rows but not create, alter or drop anything. Created
here rather than by a database init script, so `docker compose up` works on an existing data
volume too, and a changed password takes effect at the next migrate.
"""

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from .models import Base


def grant_app_role(connection: Connection, app_url: str, statement_timeout_ms: int) -> str | None:
    """Create or update the API's role with its password, DML grants and statement timeout;
    return its name, or None when the API connects as the owner itself (one role for both)."""
    app = make_url(app_url)
    owner = connection.execute(text("SELECT current_user")).scalar_one()
    if app.username == owner:
        return None
    quote = connection.dialect.identifier_preparer.quote
    role, database = quote(app.username), quote(connection.engine.url.database)
    exists = connection.execute(
        text("SELECT 1 FROM pg_roles WHERE rolname = :name"), {"name": app.username}
    ).first()
    # psycopg2 binds on the client, so the password can be a parameter even in DDL. Only a
    # superuser may restate NOSUPERUSER: the attributes are given once, at creation.
    attributes = "LOGIN" if exists else "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"
    connection.execute(
        text(f"{'ALTER' if exists else 'CREATE'} ROLE {role} {attributes} PASSWORD :password"),
        {"password": app.password},
    )
    tables = ", ".join(quote(table.name) for table in Base.metadata.sorted_tables)
    for statement in (
        f"GRANT CONNECT ON DATABASE {database} TO {role}",
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"REVOKE CREATE ON SCHEMA public FROM {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {tables} TO {role}",
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}",
        # Every session of the role starts with it, also those PgBouncer opens, which cannot
        # pass the API's per-connection option on (new sessions only: existing ones keep theirs).
        f"ALTER ROLE {role} SET statement_timeout = {int(statement_timeout_ms)}",
    ):
        connection.execute(text(statement))
    return app.username
