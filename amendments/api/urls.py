from rest_framework.routers import SimpleRouter

from amendments.api.views import AmendmentViewSet

router = SimpleRouter()
router.register("amendments", AmendmentViewSet, basename="amendment")
urlpatterns = router.urls
