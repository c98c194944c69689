from django.urls import path
from rest_framework.routers import SimpleRouter

from tpi.api.outcomes import PatientPainView
from tpi.api.plans import PlanOccurrenceViewSet, TreatmentPlanViewSet
from tpi.api.views import MassageNoteViewSet, ProcedureViewSet, TriggerPointSiteViewSet

router = SimpleRouter()
router.register("sites", TriggerPointSiteViewSet, basename="site")
router.register("procedures", ProcedureViewSet, basename="procedure")
router.register("massage-notes", MassageNoteViewSet, basename="massage-note")

router.register("treatment-plans", TreatmentPlanViewSet, basename="treatment-plan")
router.register("plan-occurrences", PlanOccurrenceViewSet, basename="plan-occurrence")

urlpatterns = [
    path("patients/<int:id>/pain-scores/", PatientPainView.as_view(), name="patient-pain-scores"),
    *router.urls,
]
