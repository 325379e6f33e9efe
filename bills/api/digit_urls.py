from django.urls import path

from bills.api import digit_views

urlpatterns = [
    path("bill/v2/_fetchbill", digit_views.BillFetchView.as_view(), name="digit-bill-fetch"),
    path("bill/v2/_search", digit_views.BillSearchView.as_view(), name="digit-bill-search"),
    path("bill/v2/_cancelbill", digit_views.BillCancelView.as_view(), name="digit-bill-cancel"),
    path("bill/v2/_generate", digit_views.BillGenerateV2View.as_view(), name="digit-bill-generate-v2"),
    path("bill/v2/_create", digit_views.BillCreateV2View.as_view(), name="digit-bill-create-v2"),
    path("bill/_search", digit_views.BillSearchV1View.as_view(), name="digit-bill-search-v1"),
    path("bill/_generate", digit_views.BillGenerateV1View.as_view(), name="digit-bill-generate-v1"),
    path("bill/_fetchbill", digit_views.BillFetchV1View.as_view(), name="digit-bill-fetch-v1"),
    path("bill/_create", digit_views.BillCreateV1View.as_view(), name="digit-bill-create-v1"),
]
