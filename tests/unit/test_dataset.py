import pandas as pd
import pytest

import amlpipe
from amlpipe import DatasetSettings, ResourceError
from amlpipe.data import sha256_of_frame


@pytest.fixture
def ws(tmp_path):
    return amlpipe.connect(backend="local", workspace_dir=tmp_path / "ws")


def test_register_records_hash_source_and_rows(ws, heart_csv):
    ds = ws.register_dataset(heart_csv)
    assert (ds.name, ds.version, ds.row_count, ds.source) == ("heart-failure-records", 1, 299, str(heart_csv))
    df = ds.to_pandas_dataframe()
    assert ds.sha256 == sha256_of_frame(df) == sha256_of_frame(pd.read_csv(heart_csv))
    assert list(df.columns) == list(ds.columns)


def test_identical_content_returns_the_existing_version(ws, heart_csv, tmp_path):
    first = ws.register_dataset(heart_csv)
    copy = tmp_path / "copy.csv"
    copy.write_bytes(heart_csv.read_bytes())
    again = ws.register_dataset(copy)
    assert again.version == first.version == 1
    assert again.source == str(heart_csv)


def test_changed_content_is_a_new_version_and_latest_follows(ws, heart_csv, tmp_path):
    ws.register_dataset(heart_csv)
    changed = pd.read_csv(heart_csv).head(200)
    v2 = ws.register_dataset(dataframe=changed)
    assert v2.version == 2 and v2.row_count == 200 and v2.source == "dataframe"
    assert ws.get_dataset("heart-failure-records").version == 2
    assert ws.get_dataset("heart-failure-records", 1).row_count == 299
    assert [d.version for d in ws.list_datasets()] == [2]


def test_unknown_name_or_version(ws, heart_csv):
    with pytest.raises(ResourceError, match="dataset 'nope' is not registered"):
        ws.get_dataset("nope")
    ws.register_dataset(heart_csv)
    with pytest.raises(ResourceError, match=r"has no version 7 \(latest: 1\)"):
        ws.get_dataset("heart-failure-records", 7)


def test_schema_check_on_registration_and_any_csv(ws, tmp_path, heart_csv):
    other = pd.read_csv(heart_csv).rename(columns={"time": "follow_up_days"})
    with pytest.raises(amlpipe.DataError, match="column 'time' is missing"):
        ws.register_dataset(dataframe=other)
    ds = ws.register_dataset(dataframe=other, settings=DatasetSettings(name="other", schema="any"))
    assert ds.name == "other" and "follow_up_days" in ds.columns


def test_compute_get_or_create_keeps_the_first_sizes(ws):
    created = ws.get_or_create_compute(amlpipe.ComputeSettings())
    assert (created.name, created.vm_size, created.max_nodes) == ("heart-f-cluster", "Standard_D2_v2", 3)
    assert 1 <= created.max_workers <= 3
    again = ws.get_or_create_compute(amlpipe.ComputeSettings(max_nodes=1))
    assert again.max_nodes == 3
    with pytest.raises(ResourceError, match="compute 'other' not found"):
        ws.get_compute("other")


@pytest.mark.parametrize("make_bad", [
    lambda df: df.head(1),
    lambda df: df[df["DEATH_EVENT"] == 0],
    lambda df: df.assign(DEATH_EVENT=df["DEATH_EVENT"].where(df.index != 3)),
])
def test_data_that_cannot_train_is_refused_before_a_version_is_written(ws, heart_csv, tmp_path, make_bad):
    first = ws.register_dataset(heart_csv)
    bad = tmp_path / "bad.csv"
    make_bad(pd.read_csv(heart_csv)).to_csv(bad, index=False)
    with pytest.raises(amlpipe.DataError, match="bad.csv"):
        ws.register_dataset(bad)
    assert ws.get_dataset("heart-failure-records").version == first.version == 1
    assert [p.name for p in (ws.root / "datasets" / "heart-failure-records").iterdir()] == ["1"]


@pytest.mark.parametrize("name", ["..", "../../x", "a/b"])
def test_dataset_names_cannot_leave_the_workspace(ws, heart_csv, name, tmp_path):
    with pytest.raises(amlpipe.ConfigError, match="not a valid dataset name"):
        ws.get_dataset(name)
    assert not (tmp_path / "x").exists()
