from django.urls import path

from demands.api import digit_views

urlpatterns = [
    path("demand/_create", digit_views.DemandCreateView.as_view(), name="digit-demand-create"),
    path("demand/_update", digit_views.DemandUpdateView.as_view(), name="digit-demand-update"),
    path("demand/_search", digit_views.DemandSearchView.as_view(), name="digit-demand-search"),
]
