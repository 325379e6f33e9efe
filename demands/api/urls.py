from rest_framework.routers import SimpleRouter

from demands.api.views import DemandViewSet

router = SimpleRouter()
router.register("demands", DemandViewSet, basename="demand")
urlpatterns = router.urls
