from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone


class AccessLog(models.Model):
    """One read of patient data: who looked at (or exported) what, when and from where. Append-only."""

    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        EXPORT = "export", "Exported"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("clinic.Patient", on_delete=models.PROTECT, related_name="+")
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64)
    action = models.CharField(max_length=10, choices=Action.choices)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    path = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        # ("at", "id") serves the default ordering: the access log's list walks it backwards to its page.
        indexes = [
            models.Index(fields=["patient", "at"]),
            models.Index(fields=["user", "at"]),
            models.Index(fields=["at", "id"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(action__in=["view", "export"]), name="accesslog_action_valid")
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.content_type.model} {self.object_id} by user {self.user_id}"
