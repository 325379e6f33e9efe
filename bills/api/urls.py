"""REST routes of bills: ``/api/v1/bills/`` and ``/api/v1/billing-runs/``."""

from rest_framework.routers import SimpleRouter

from bills.api.run_views import BillingRunViewSet
from bills.api.views import BillViewSet

router = SimpleRouter()
router.register("bills", BillViewSet, basename="bill")
router.register("billing-runs", BillingRunViewSet, basename="billing-run")
urlpatterns = router.urls
