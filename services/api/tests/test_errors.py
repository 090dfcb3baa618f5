"""Unexpected errors: a 500 problem with the request id; the traceback only in the log."""

import logging


def test_unexpected_error_is_a_500_problem_without_traceback(app, caplog):
    def explode():
        raise RuntimeError("secret internals")

    app.add_url_rule("/explode", view_func=explode)
    with caplog.at_level(logging.ERROR, logger="api.errors"):
        response = app.test_client().get("/explode", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert response.json["request_id"] == "req-42"
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    (record,) = [r for r in caplog.records if r.name == "api.errors"]
    assert record.exc_info[0] is RuntimeError
    assert record.request_id == "req-42"
