"""REST routes of payments.imports (mounted under /api/v1/): ``/api/v1/payment-imports/``."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from payments.imports.api.views import ImportRunViewSet

router = SimpleRouter()
router.register("payment-imports", ImportRunViewSet, basename="payment-import")
urlpatterns = router.urls
