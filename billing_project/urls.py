"""URL map: admin, REST face (/api/v1/), DIGIT face (/billing-service/), schema/docs and /healthz."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from billing_project.health import healthz
from bills.views import bill_print
from payments.gateway.views import gateway_return_page
from payments.views import payment_receipt

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/v1/", include("masters.api.urls")),
    path("api/v1/", include("demands.api.urls")),
    path("api/v1/", include("amendments.api.urls")),
    path("api/v1/", include("bills.api.urls")),
    path("api/v1/", include("payments.api.urls")),
    path("api/v1/", include("payments.gateway.api.urls")),
    path("api/v1/", include("payments.methods.api.urls")),
    path("api/v1/", include("payments.imports.api.urls")),
    path("billing-service/", include("masters.api.digit_urls")),
    path("billing-service/", include("demands.api.digit_urls")),
    path("billing-service/", include("amendments.api.digit_urls")),
    path("billing-service/", include("bills.api.digit_urls")),
    path("collection-services/", include("payments.api.digit_urls")),
    path("bills/<uuid:bill_id>/print/", bill_print, name="bill-print"),
    path("payments/<uuid:payment_id>/receipt/", payment_receipt, name="payment-receipt"),
    path("pay/return/", gateway_return_page, name="gateway-return"),
]

handler400 = "billing_project.api.exceptions.json_bad_request"
handler403 = "billing_project.api.exceptions.json_forbidden"
handler404 = "billing_project.api.exceptions.json_not_found"
handler500 = "billing_project.api.exceptions.json_server_error"
