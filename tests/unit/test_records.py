"""The local workspace's JSON records: written atomically with the mode asked for, read with a clear error."""

import os
import stat

import pytest

from amlpipe import ResourceError
from amlpipe.backends.local.records import read_record, write_record


def test_a_secret_record_is_0600_even_over_a_stale_partial_file(tmp_path):
    stale = tmp_path / "keys.json.part"
    stale.write_text("old")
    os.chmod(stale, 0o644)
    write_record(tmp_path / "keys.json", {"primary_key": "k"}, mode=0o600)
    assert stat.S_IMODE(os.stat(tmp_path / "keys.json").st_mode) == 0o600
    assert read_record(tmp_path / "keys.json", "keys") == {"primary_key": "k"}


@pytest.mark.parametrize("content", [b"{not json", b"\x89PNG\x00\xff", b"[" * 100_000])
def test_an_unreadable_record_is_a_resource_error_naming_it(tmp_path, content):
    (tmp_path / "svc.json").write_bytes(content)
    with pytest.raises(ResourceError, match=r"service record .*svc\.json is corrupt"):
        read_record(tmp_path / "svc.json", "service")
