"""The metrics directory: emptied once at start, a temporary one removed at exit."""

import os

import pytest

from api import multiproc


@pytest.fixture(autouse=True)
def _fresh_module_state(monkeypatch):
    monkeypatch.setattr(multiproc, "_prepared_in_pid", None)
    monkeypatch.setattr(multiproc, "_created", None)
    monkeypatch.delenv(multiproc.ENV_VAR, raising=False)


def test_given_directory_is_emptied_and_kept(tmp_path):
    (tmp_path / "counter_123.db").write_bytes(b"stale")
    (tmp_path / "old").mkdir()
    assert multiproc.prepare(str(tmp_path)) == str(tmp_path)
    assert os.environ[multiproc.ENV_VAR] == str(tmp_path)
    assert list(tmp_path.iterdir()) == []
    multiproc.cleanup()
    assert tmp_path.is_dir()


def test_a_second_prepare_in_the_same_process_wipes_nothing(tmp_path):
    multiproc.prepare(str(tmp_path))
    (tmp_path / "gauge_live_1.db").write_bytes(b"live worker")  # gunicorn re-reads its config
    multiproc.prepare(str(tmp_path))
    assert (tmp_path / "gauge_live_1.db").exists()


def test_temporary_directory_is_made_and_removed_at_exit():
    path = multiproc.prepare("")
    assert os.path.isdir(path) and os.environ[multiproc.ENV_VAR] == path
    multiproc.cleanup()
    assert not os.path.exists(path)
