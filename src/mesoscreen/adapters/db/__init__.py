"""Storage: SQLAlchemy Core tables, Alembic migrations, repositories and the audit chain."""
