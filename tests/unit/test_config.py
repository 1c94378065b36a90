import json

import pytest

from amlpipe import ConfigError
from amlpipe.config import find_config_file, load_config

AZURE = {"subscription_id": "sub", "resource_group": "rg", "workspace_name": "ws"}


def write(path, content):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_no_file_means_local(tmp_path):
    config = load_config(start=tmp_path)
    assert config.backend == "local" and config.path is None


def test_azure_file_without_backend_key_means_azureml(tmp_path):
    file = write(tmp_path / "config.json", AZURE)
    config = load_config(start=tmp_path)
    assert config.backend == "azureml" and config.path == file
    assert (config.subscription_id, config.resource_group, config.workspace_name) == ("sub", "rg", "ws")


def test_backend_key_and_environment_and_caller_in_that_order(tmp_path, monkeypatch):
    write(tmp_path / "config.json", {**AZURE, "backend": "local"})
    assert load_config(start=tmp_path).backend == "local"
    monkeypatch.setenv("AMLPIPE_BACKEND", "azureml")
    assert load_config(start=tmp_path).backend == "azureml"
    assert load_config(start=tmp_path, backend="local").backend == "local"


def test_found_in_a_parent_and_in_dot_azureml(tmp_path):
    file = write(tmp_path / ".azureml" / "config.json", AZURE)
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config_file(start=deep) == file


def test_explicit_folder_and_file(tmp_path):
    file = write(tmp_path / "cfg" / "config.json", AZURE)
    assert find_config_file(tmp_path / "cfg") == file
    assert find_config_file(file) == file


def test_explicit_path_that_does_not_exist_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="no config file"):
        find_config_file(tmp_path / "missing.json")


def test_malformed_json_names_the_file_and_position(tmp_path):
    file = write(tmp_path / "config.json", '{"subscription_id": "sub",,}')
    with pytest.raises(ConfigError, match=rf"{file}.*not valid JSON.*line 1"):
        load_config(start=tmp_path)


def test_not_an_object(tmp_path):
    write(tmp_path / "config.json", "[1, 2]")
    with pytest.raises(ConfigError, match="JSON object"):
        load_config(start=tmp_path)


@pytest.mark.parametrize("key", ["subscription_id", "resource_group", "workspace_name"])
def test_missing_azure_key_is_named(tmp_path, key):
    file = write(tmp_path / "config.json", {k: v for k, v in AZURE.items() if k != key})
    with pytest.raises(ConfigError, match=rf"{file}: key '{key}'"):
        load_config(start=tmp_path)


def test_missing_key_is_fine_for_the_local_backend(tmp_path):
    write(tmp_path / "config.json", {"backend": "local"})
    assert load_config(start=tmp_path).backend == "local"


def test_unknown_backend_names_where_it_came_from(tmp_path, monkeypatch):
    from amlpipe import backends

    def chosen():
        config = load_config(start=tmp_path)
        return backends.get(config.backend, config.backend_source)

    file = write(tmp_path / "config.json", {**AZURE, "backend": "sagemaker"})
    with pytest.raises(ConfigError, match=rf"'sagemaker' from {file}: key 'backend'; expected one of local, azureml"):
        chosen()
    monkeypatch.setenv("AMLPIPE_BACKEND", "gcp")
    with pytest.raises(ConfigError, match="AMLPIPE_BACKEND"):
        chosen()
    monkeypatch.setenv("AMLPIPE_BACKEND", "local")
    assert chosen().name == "local"


def test_azureml_without_any_file(tmp_path):
    with pytest.raises(ConfigError, match="needs a config.json"):
        load_config(start=tmp_path, backend="azureml")


def test_search_order_is_workspace_from_configs(tmp_path):
    """from_config looks for .azureml/config.json all the way up before aml_config/, then a plain config.json."""
    deep = tmp_path / "project" / "notebooks"
    plain = write(deep / "config.json", AZURE)
    legacy = write(tmp_path / "project" / "aml_config" / "config.json", AZURE)
    assert find_config_file(start=deep) == legacy
    dotted = write(tmp_path / ".azureml" / "config.json", AZURE)
    assert find_config_file(start=deep) == dotted
    assert find_config_file(deep) == dotted  # an explicit folder is searched upwards too
    assert find_config_file(plain) == plain  # an explicit file is taken as it is
