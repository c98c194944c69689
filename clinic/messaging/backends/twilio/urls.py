"""Twilio's webhook URLs: the paths and names Twilio consoles are configured with (do not change)."""

from django.urls import path

from clinic.messaging.backends.twilio.webhooks import TwilioInboundView, TwilioStatusView

urlpatterns = [
    path("twilio/sms/", TwilioInboundView.as_view(), name="twilio-sms"),
    path("twilio/status/", TwilioStatusView.as_view(), name="twilio-status"),
]
