"""Compute clusters: only "not found" creates; provisioning errors raise; only a cluster is ever deleted."""

import pytest

import amlpipe
from amlpipe import ResourceError

from . import fake_sdk


@pytest.fixture
def ws(cloud, azure_config):
    return amlpipe.connect(backend="azureml", config_path=azure_config)


@pytest.mark.parametrize("status, says", [(403, "access denied"), (401, "not authorised"), (503, "Azure answered 503")])
def test_a_refused_lookup_creates_nothing(cloud, ws, status, says):
    cloud.compute_lookup_status = status
    with pytest.raises(ResourceError, match=f"compute 'heart-f-cluster': looking it up {says}; nothing was created") as info:
        ws.get_or_create_compute(amlpipe.ComputeSettings())
    assert "ComputeTarget.create" not in cloud.names()
    assert type(info.value.__cause__).__name__ == "ComputeTargetException"


def test_a_provisioning_error_the_sdk_only_prints_is_raised(cloud, ws, capsys):
    cloud.provisioning_error = {"error": {"code": "QuotaExceeded", "message": "Standard_D2_v2 quota 0 cores in westeurope"}}
    with pytest.raises(ResourceError, match="compute 'heart-f-cluster' could not be provisioned .state Failed.*QuotaExceeded.*quota"):
        ws.get_or_create_compute(amlpipe.ComputeSettings())
    assert "Provisioning errors" in capsys.readouterr().out  # what the SDK does: print and return


def test_a_provisioned_cluster_is_returned(cloud, ws):
    compute = ws.get_or_create_compute(amlpipe.ComputeSettings())
    assert (compute.name, compute.max_nodes) == ("heart-f-cluster", 3)


def test_delete_never_touches_a_compute_instance_of_that_name(cloud, ws):
    cloud.computes["heart-f-cluster"] = fake_sdk.compute_instance(cloud, "heart-f-cluster")
    with pytest.raises(ResourceError, match="is a ComputeInstance, not an AmlCompute cluster; not deleted"):
        ws.delete_compute("heart-f-cluster")
    assert "ComputeInstance.delete" not in cloud.names()


def test_delete_a_cluster_and_a_missing_one(cloud, ws):
    cloud.add_cluster("heart-f-cluster")
    assert ws.delete_compute("heart-f-cluster") == ["compute heart-f-cluster"]
    assert ws.delete_compute("heart-f-cluster") == []
    cloud.compute_lookup_status = 403
    with pytest.raises(ResourceError, match="access denied"):
        ws.delete_compute("heart-f-cluster")
