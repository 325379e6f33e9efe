"""Collection face routes: ``/collection-services/payments/...``."""

from django.urls import path

from payments.api import digit_views

urlpatterns = [
    path("payments/_create", digit_views.PaymentCreateView.as_view(), name="collection-payment-create"),
    path("payments/_validate", digit_views.PaymentValidateView.as_view(), name="collection-payment-validate"),
    path("payments/_search", digit_views.PaymentSearchView.as_view(), name="collection-payment-search"),
    path(
        "payments/<str:module>/_search",
        digit_views.PaymentModuleSearchView.as_view(),
        name="collection-payment-module-search",
    ),
    path(
        "payments/<str:module>/_workflow",
        digit_views.PaymentWorkflowView.as_view(),
        name="collection-payment-workflow",
    ),
]
