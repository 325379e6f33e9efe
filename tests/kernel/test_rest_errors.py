"""Every REST failure is JSON ``{"code", "message", "fields"}`` — never an HTML page."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from masters.models import Role, TaxHeadMaster


@pytest.mark.django_db
def test_unknown_api_path_is_a_json_404(api_client_for):
    client = api_client_for("emp", {"pb.amritsar": [Role.EMPLOYEE]})
    for path in ("/api/v1/no-such-thing/", "/nowhere"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"code": "NOT_FOUND", "message": "No such resource.", "fields": {}}
    # Under the DIGIT prefixes the same 404 comes in the DIGIT envelope (tests/kernel/test_boundary.py).
    response = client.get("/billing-service/no/_search")
    assert (response.status_code, response.json()["Errors"][0]["code"]) == (404, "NOT_FOUND")


@pytest.mark.django_db
def test_method_not_allowed_is_json(api_client_for, tenant_factory):
    client = api_client_for("admin", {"pb": [Role.BILLING_ADMIN]})
    head = TaxHeadMaster.objects.create(
        tenant=tenant_factory("pb"), code="PT_TAX", service="PT", name="T", category="TAX"
    )
    response = client.delete(f"/api/v1/tax-heads/{head.pk}/")
    assert response.status_code == 405
    assert response.json() == {"code": "METHOD_NOT_ALLOWED", "message": 'Method "DELETE" not allowed.', "fields": {}}
    assert TaxHeadMaster.objects.filter(pk=head.pk).exists()


@pytest.mark.django_db
def test_malformed_json_is_a_400(api_client_for, tenant_factory):
    tenant_factory("pb.amritsar")
    client = api_client_for("emp", {"pb.amritsar": [Role.EMPLOYEE]})
    response = client.post("/api/v1/payers/", data='{"name": "Asha", ', content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["fields"]) == ("MALFORMED_REQUEST", {})
    assert body["message"].startswith("JSON parse error - ")


@pytest.mark.django_db
def test_form_body_is_an_unsupported_media_type(api_client_for):
    client = api_client_for("admin", {"pb": [Role.BILLING_ADMIN]})
    response = client.post("/api/v1/id-formats/", data="tenant=pb", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.json() == {
        "code": "UNSUPPORTED_MEDIA_TYPE",
        "message": 'Unsupported media type "application/x-www-form-urlencoded" in request.',
        "fields": {},
    }


@pytest.mark.django_db
def test_unauthenticated_is_a_json_401():
    response = APIClient().get("/api/v1/tax-heads/")
    assert response.status_code == 401
    assert response.json() == {
        "code": "NOT_AUTHENTICATED",
        "message": "Authentication credentials were not provided.",
        "fields": {},
    }
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.django_db
def test_bad_token_is_a_json_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer " + "0" * 40)
    response = client.get("/api/v1/tax-heads/")
    assert response.status_code == 401
    assert response.json() == {"code": "AUTHENTICATION_FAILED", "message": "Invalid token.", "fields": {}}
