"""REST routes of payments.methods (mounted under /api/v1/): payment methods, autopay mandates and charges."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from payments.methods.api.views import ChargeViewSet, MandateViewSet, PaymentMethodViewSet

router = SimpleRouter()
router.register("payment-methods", PaymentMethodViewSet, basename="payment-method")
router.register("autopay-mandates", MandateViewSet, basename="autopay-mandate")
router.register("autopay-charges", ChargeViewSet, basename="autopay-charge")
urlpatterns = router.urls
