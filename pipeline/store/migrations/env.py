"""Alembic's entry point. It runs on the connection (and inside the transaction and lock)
that ``pipeline.store.migrate`` opened, so it never creates an engine of its own."""

from alembic import context

from pipeline.store.schema import Base, UtcDateTime

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through pipeline.store.migrate.upgrade()")


def _render_item(kind: str, obj: object, _context: object) -> str | bool:
    """Migrations spell our UTC type as the plain column type, so they never import it."""
    if kind == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    transactional_ddl=True,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
    render_item=_render_item,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
