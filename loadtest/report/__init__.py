"""Run load tests (k6, locust) against the stack and report on them: `python -m loadtest.report`."""
