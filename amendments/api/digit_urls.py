from django.urls import path

from amendments.api import digit_views

urlpatterns = [
    path("amendment/_create", digit_views.AmendmentCreateView.as_view(), name="digit-amendment-create"),
    path("amendment/_update", digit_views.AmendmentUpdateView.as_view(), name="digit-amendment-update"),
    path("amendment/_search", digit_views.AmendmentSearchView.as_view(), name="digit-amendment-search"),
]
