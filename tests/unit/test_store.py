"""A new local workspace's MLflow store: a copy of an empty one MLflow built once per version."""

import os
import sqlite3

from mlflow.version import VERSION

import amlpipe
from amlpipe.backends.local.workspace import LocalWorkspace


def tables(path):
    with sqlite3.connect(path) as db:
        found = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        head = db.execute("SELECT version_num FROM alembic_version").fetchall()
    return found, head


def test_a_new_store_is_a_copy_of_the_cached_empty_store_and_works(tmp_path, monkeypatch):
    monkeypatch.setenv("AMLPIPE_CACHE_DIR", str(tmp_path / "cache"))
    first = LocalWorkspace(tmp_path / "one")
    first.client.create_experiment("e", artifact_location=(tmp_path / "one" / "a").as_uri())
    template = tmp_path / "cache" / f"mlflow-{VERSION}-empty-store.db"
    assert template.is_file() and not list(tmp_path.glob("*/*.part"))  # both files written whole
    assert tables(template) == tables(tmp_path / "one" / "mlflow.db")  # same schema, at the same migration
    assert first.client.get_experiment_by_name("e") is not None
    assert [e.name for e in LocalWorkspace(tmp_path / "two").client.search_experiments()] == ["Default"]


def test_without_a_writable_cache_mlflow_builds_the_store_in_place(tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("AMLPIPE_CACHE_DIR", str(blocked / "cache"))
    ws = amlpipe.connect(backend="local", workspace_dir=tmp_path / "ws")
    assert ws.list_models() == []
    assert "registered_models" in tables(tmp_path / "ws" / "mlflow.db")[0]
    assert sorted(os.listdir(tmp_path)) == ["file", "ws"]
