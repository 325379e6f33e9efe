"""REST routes of payments.gateway (mounted under /api/v1/): online payments, gateway transactions, callbacks."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from payments.gateway.api.views import GatewayCallbackView, GatewayTransactionViewSet, OnlinePaymentView

router = SimpleRouter()
router.register("gateway-transactions", GatewayTransactionViewSet, basename="gateway-transaction")

urlpatterns: list[URLPattern | URLResolver] = [
    path("online-payments/", OnlinePaymentView.as_view(), name="online-payment-create"),
    path(
        "gateway/callbacks/<slug:gateway>/",
        GatewayCallbackView.as_view(),
        name="gateway-callback",
    ),
    *router.urls,
]
