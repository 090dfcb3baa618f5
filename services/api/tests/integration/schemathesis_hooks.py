"""schemathesis hooks of test_openapi_conformance.py (loaded through SCHEMATHESIS_HOOKS)."""

import schemathesis

SIMULATED_WAITS = ("/sleep", "/db/sleep", "/cpu")
MAX_WAIT_MS = 20


@schemathesis.hook
def map_query(ctx, query):
    """Shorten valid simulated waits to at most 20 ms, so the run stays short; out-of-range
    values are kept (their 422 is immediate)."""
    ms = str((query or {}).get("ms"))  # an int, or a string in the coverage phase
    valid = ms.isascii() and ms.isdigit() and int(ms) <= 10_000
    if ctx.operation.path in SIMULATED_WAITS and valid:
        query["ms"] = int(ms) % (MAX_WAIT_MS + 1)
    return query
