from django.urls import path
from rest_framework.routers import SimpleRouter

from scheduling.api import views

router = SimpleRouter()
router.register("appointment-types", views.AppointmentTypeViewSet, basename="appointment-type")
router.register("locations", views.LocationViewSet, basename="location")
router.register("rooms", views.RoomViewSet, basename="room")
router.register("closures", views.ClosureViewSet, basename="closure")
router.register("working-hours", views.WorkingHoursViewSet, basename="working-hours")
router.register("appointments", views.AppointmentViewSet, basename="appointment")
router.register("series", views.SeriesViewSet, basename="series")
router.register("waitlist", views.WaitlistEntryViewSet, basename="waitlist-entry")

urlpatterns = [
    path("free-slots/", views.FreeSlotsView.as_view(), name="free-slots"),
    path(
        "calendar/providers/<int:provider_id>/<str:token>.ics",
        views.ProviderFeedView.as_view(),
        name="scheduling-provider-feed",
    ),
    *router.urls,
]
