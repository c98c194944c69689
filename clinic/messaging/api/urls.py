from rest_framework.routers import SimpleRouter

from clinic.messaging.api.views import TriageItemViewSet

router = SimpleRouter()
router.register("triage", TriageItemViewSet, basename="triage-item")

urlpatterns = router.urls
