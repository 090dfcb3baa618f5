"""Real processes for the test suites and benchmarks: PostgreSQL, gunicorn, free ports."""
