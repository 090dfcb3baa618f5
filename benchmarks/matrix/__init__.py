"""The serving-mode benchmark matrix: which way of serving Flask holds high concurrency best."""
