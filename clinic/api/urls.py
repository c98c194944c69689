from rest_framework.routers import SimpleRouter

from clinic.api.views import PatientViewSet, ProviderViewSet

router = SimpleRouter()
router.register("patients", PatientViewSet, basename="patient")
router.register("providers", ProviderViewSet, basename="provider")

urlpatterns = router.urls
