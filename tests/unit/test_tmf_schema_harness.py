"""The conformance harness itself must catch drift, or every TMF test is hollow."""

import json

import pytest

from core.settings import get_settings
from tests.support.tmf_schema import RESOURCES, resource_for, validate_body


def test_every_mapped_definition_exists_in_its_spec():
    for spec_file, definition in RESOURCES.values():
        spec = json.loads((get_settings().tmf_specs_dir / spec_file).read_text())
        assert definition in spec["definitions"], f"{spec_file} has no {definition}"
        assert "Error" in spec["definitions"]


def test_official_sample_passes_and_drift_fails():
    sample = json.loads((get_settings().tmf_specs_dir.parent / "samples/TMF629/Customer.example.json").read_text())
    validate_body("/tmf-api/customerManagement/v4/customer/1", 200, sample)
    drifted = dict(sample, engagedParty={"id": "IND-1"})  # @referredType missing
    with pytest.raises(AssertionError, match="referredType"):
        validate_body("/tmf-api/customerManagement/v4/customer/1", 200, drifted)
    with pytest.raises(AssertionError, match="reason"):
        validate_body("/tmf-api/customerManagement/v4/customer/1", 404, {"code": "customer.not_found"})


def test_paths_map_to_their_resource():
    assert resource_for("/tmf-api/productCatalogManagement/v4/productOffering") == (
        "TMF620-ProductCatalog-v4.0.0.swagger.json", "ProductOffering")
    assert resource_for("/bss-api/v1/diagnostics/ping") is None
