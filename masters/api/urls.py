"""REST face of the masters app, mounted at ``/api/v1/``."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from masters.api import views

router = SimpleRouter()
router.register("tenants", views.TenantViewSet, basename="tenant")
router.register("business-services", views.BusinessServiceViewSet, basename="business-service")
router.register("tax-heads", views.TaxHeadViewSet, basename="tax-head")
router.register("tax-periods", views.TaxPeriodViewSet, basename="tax-period")
router.register("id-formats", views.IdFormatViewSet, basename="id-format")
router.register("payers", views.PayerViewSet, basename="payer")

urlpatterns = router.urls
