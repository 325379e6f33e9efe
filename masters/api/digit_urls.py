"""DIGIT face of the masters app, mounted at ``/billing-service/`` (reference §6)."""

from __future__ import annotations

from django.urls import path

from masters.api import digit_views

urlpatterns = [
    path("taxheads/_search", digit_views.TaxHeadSearchView.as_view(), name="digit-taxheads-search"),
    path("taxperiods/_search", digit_views.TaxPeriodSearchView.as_view(), name="digit-taxperiods-search"),
    path(
        "businessservices/_search",
        digit_views.BusinessServiceSearchView.as_view(),
        name="digit-businessservices-search",
    ),
]
