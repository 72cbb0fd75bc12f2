"""The metadata database: users and their API keys, training configs, who owns which model and
backtest, the server's jobs and the audit of deleted bars. SQLAlchemy 2 over SQLite (the
default, embedded) or PostgreSQL (``STREAMLINES_DATABASE_URL``); the schema is versioned by the
Alembic migrations in ``migrations/``."""
