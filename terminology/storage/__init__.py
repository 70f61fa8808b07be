"""Storage of code systems: tables, engines, bulk writers, migrations and the store."""
