"""The OpenAPI schema generates and validates with no warnings (``spectacular --validate --fail-on-warn``)."""

from __future__ import annotations

import yaml
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS


def test_schema_validates_without_warnings(tmp_path):
    GENERATOR_STATS.reset()  # warnings of earlier generations in this process must not leak into this one
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert not GENERATOR_STATS  # no warning and no error was recorded

    schema = yaml.safe_load(target.read_text())
    for path in (
        "/billing-service/taxheads/_search",
        "/billing-service/taxperiods/_search",
        "/billing-service/businessservices/_search",
    ):
        assert list(schema["paths"][path]) == ["post"], path
        assert schema["paths"][path]["post"]["tags"] == ["DIGIT"], path
    taxheads = schema["paths"]["/billing-service/taxheads/_search"]["post"]
    assert taxheads["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/DigitTaxHeadSearchResponse"
    }
    assert set(taxheads["responses"]) == {"200", "400", "401", "403"}
    assert {p["name"] for p in taxheads["parameters"]} == {
        "tenantId",
        "service",
        "category",
        "name",
        "code",
        "isDebit",
        "isActualDemand",
        "id",
    }
    error = schema["components"]["schemas"]["ErrorResponse"]
    assert sorted(error["properties"]) == ["code", "fields", "message"]
    assert "delete" not in schema["paths"]["/api/v1/tax-heads/{id}/"]
