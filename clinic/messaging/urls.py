from django.urls import path

from clinic.messaging import views

app_name = "messaging"
urlpatterns = [
    path("twilio/sms/", views.twilio_sms, name="twilio-sms"),
    path("twilio/status/", views.twilio_status, name="twilio-status"),
]
