"""Storage: Piccolo tables, migrations and the database engine."""
