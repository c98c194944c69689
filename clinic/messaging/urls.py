from django.urls import include, path

app_name = "messaging"
# Each provider's webhooks come from its own package, named in this namespace ("messaging:twilio-sms").
urlpatterns = [
    path("", include("clinic.messaging.backends.twilio.urls")),
]
