import hashlib
import http.server
import io
import threading
import zipfile

import pandas as pd
import pytest

from amlpipe import DataError, load_heart_failure
from amlpipe import data

SHA256 = "9c73cea7468ff5d517801ec050fe9993da5912fce4b56f296f8df3b38dd75912"


def test_the_real_file_loads_and_matches_its_published_figures(heart_csv):
    assert hashlib.sha256(heart_csv.read_bytes()).hexdigest() == SHA256
    df = load_heart_failure(heart_csv)
    assert df.shape == (299, 13)
    assert int(df["DEATH_EVENT"].sum()) == 96
    assert round(df["age"].mean(), 2) == 60.83
    assert round(df["platelets"].mean(), 2) == 263358.03


def test_amlpipe_data_is_used_when_no_source_is_given(heart_csv, monkeypatch):
    monkeypatch.setenv("AMLPIPE_DATA", str(heart_csv))
    assert data.resolve_source() == str(heart_csv)
    assert len(load_heart_failure()) == 299


def test_feature_schema_of_the_lesson(heart_csv):
    df = pd.read_csv(heart_csv)
    assert data.feature_schema(df.drop(columns=["DEATH_EVENT"])) == data.HEART_FAILURE_SCHEMA


@pytest.fixture
def frame(heart_csv):
    return pd.read_csv(heart_csv)


def save(df, tmp_path, name="bad.csv"):
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


def test_missing_column_is_named(frame, tmp_path):
    path = save(frame.drop(columns=["ejection_fraction"]), tmp_path)
    with pytest.raises(DataError, match=rf"{path}: column 'ejection_fraction' is missing"):
        load_heart_failure(path)


def test_unexpected_column_is_named(frame, tmp_path):
    frame["patient_id"] = range(len(frame))
    with pytest.raises(DataError, match="unexpected column 'patient_id'"):
        load_heart_failure(save(frame, tmp_path))


def test_non_numeric_value_names_column_and_row(frame, tmp_path):
    frame["serum_sodium"] = frame["serum_sodium"].astype(object)
    frame.loc[7, "serum_sodium"] = "high"
    with pytest.raises(DataError, match=r"column 'serum_sodium' row 7: 'high' is not a number"):
        load_heart_failure(save(frame, tmp_path))


def test_label_must_be_zero_or_one(frame, tmp_path):
    frame.loc[3, "DEATH_EVENT"] = 2
    with pytest.raises(DataError, match="'DEATH_EVENT' must be 0 or 1"):
        load_heart_failure(save(frame, tmp_path))


def test_boolean_feature_must_be_zero_or_one(frame, tmp_path):
    frame.loc[0, "smoking"] = 5
    with pytest.raises(DataError, match="'smoking' must be 0 or 1"):
        load_heart_failure(save(frame, tmp_path))


def test_one_class_only(frame, tmp_path):
    with pytest.raises(DataError, match="'DEATH_EVENT' has one class only"):
        load_heart_failure(save(frame[frame.DEATH_EVENT == 0], tmp_path))


def test_fewer_rows_of_a_class_than_folds(frame, tmp_path):
    few = pd.concat([frame[frame.DEATH_EVENT == 0], frame[frame.DEATH_EVENT == 1].head(4)])
    with pytest.raises(DataError, match="4 rows of class 1, fewer than the 10 cross-validation folds"):
        load_heart_failure(save(few, tmp_path))


def test_too_few_rows(frame):
    with pytest.raises(DataError, match="too few"):
        data.check_training_data(frame.head(3).assign(DEATH_EVENT=[0, 1, 0]), "DEATH_EVENT", "classification")


def test_missing_file_empty_file_and_garbage(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        data.read_csv(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="empty.csv: the file is empty"):
        data.read_csv(tmp_path / "empty.csv")
    (tmp_path / "garbage.csv").write_bytes(b'a,b\n1,2\n"3,4\n5,6,7,8\n')
    with pytest.raises(DataError, match="garbage.csv: not a readable CSV"):
        data.read_csv(tmp_path / "garbage.csv")
    (tmp_path / "header.csv").write_text("a,b\n")
    with pytest.raises(DataError, match="no data rows"):
        data.read_csv(tmp_path / "header.csv")


def test_generic_table_with_a_category_column(frame):
    frame["region"] = ["north", "south", "east"] * 99 + ["north", "west"]
    features = frame.drop(columns=["DEATH_EVENT"])
    assert data.feature_schema(features)["region"] == "category"
    data.check_training_data(frame, "DEATH_EVENT", "classification", n_folds=10)


def test_label_missing_or_with_gaps(frame):
    with pytest.raises(DataError, match="label column 'outcome' is missing"):
        data.check_training_data(frame, "outcome", "classification")
    frame["DEATH_EVENT"] = frame["DEATH_EVENT"].astype(float)
    frame.loc[11, "DEATH_EVENT"] = None
    with pytest.raises(DataError, match="'DEATH_EVENT' is empty at row 11"):
        data.check_training_data(frame, "DEATH_EVENT", "classification")


def test_columns_that_cannot_be_featurized_are_named(frame):
    frame["notes"] = [f"free text {i}" for i in range(len(frame))]
    with pytest.raises(DataError, match="column 'notes' is text with 299 distinct values"):
        data.check_training_data(frame, "DEATH_EVENT", "classification")
    frame = frame.drop(columns=["notes"])
    frame["blank"] = None
    with pytest.raises(DataError, match="column 'blank' has no values"):
        data.check_training_data(frame, "DEATH_EVENT", "classification")


def test_bad_weight_column(frame):
    frame["w"] = -1.0
    with pytest.raises(DataError, match="weight column 'w'"):
        data.check_training_data(frame, "DEATH_EVENT", "classification", weight="w")


class _ZipHandler(http.server.BaseHTTPRequestHandler):
    payload = b""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.payload)))
        self.end_headers()
        self.wfile.write(self.payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def zip_server(heart_csv):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.write(heart_csv, data.CSV_NAME)
    _ZipHandler.payload = buffer.getvalue()
    server = http.server.HTTPServer(("127.0.0.1", 0), _ZipHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/heart.zip"
    server.shutdown()


def test_download_extracts_and_caches_then_reuses_the_cache(zip_server, heart_csv, monkeypatch, tmp_path):
    monkeypatch.setenv("AMLPIPE_CACHE_DIR", str(tmp_path))  # an empty cache
    monkeypatch.delenv("AMLPIPE_DATA", raising=False)
    path = data.download_heart_failure(zip_server)
    assert path == data.cache_dir() / data.CSV_NAME
    assert path.read_bytes() == heart_csv.read_bytes()
    assert data.resolve_source() == str(path)  # no second download


def test_offline_download_says_how_to_give_a_local_file(monkeypatch, tmp_path):
    monkeypatch.setenv("AMLPIPE_CACHE_DIR", str(tmp_path))  # an empty cache
    import socket

    with socket.socket() as s:  # a loopback port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DataError, match="set AMLPIPE_DATA=.*or pass --data PATH"):
        data.download_heart_failure(f"http://127.0.0.1:{port}/heart.zip", timeout=2)
    assert not (data.cache_dir() / data.CSV_NAME).exists()


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), 1e308, -1e39])
def test_training_data_out_of_float32_range_is_refused_naming_column_and_row(heart_csv, value):
    df = pd.read_csv(heart_csv)
    df.loc[7, "platelets"] = value
    with pytest.raises(DataError, match="column 'platelets' row 7: .* out of range"):
        data.check_training_data(df, "DEATH_EVENT", "classification", n_folds=10)
    with pytest.raises(DataError, match="column 'platelets' row 7"):
        data.check_heart_failure(df)
