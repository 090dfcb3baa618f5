"""The capacity planner: from a stress run to a sized deployment (`python -m loadtest.plan`)."""
