from django.db import models


class TriggerPointSite(models.Model):
    """A muscle where trigger points are injected; laterality is recorded per injection, not here."""

    class Region(models.TextChoices):
        HEAD_NECK = "head_neck", "Head and neck"
        SHOULDER = "shoulder", "Shoulder girdle"
        UPPER_BACK = "upper_back", "Upper back"
        CHEST = "chest", "Chest"
        UPPER_LIMB = "upper_limb", "Arm and forearm"
        LOWER_BACK = "lower_back", "Lower back"
        ABDOMEN = "abdomen", "Abdomen"
        HIP_BUTTOCK = "hip_buttock", "Hip and buttock"
        LOWER_LIMB = "lower_limb", "Thigh and leg"

    name = models.CharField(max_length=100, unique=True)
    body_region = models.CharField(max_length=16, choices=Region.choices)
    snomed_code = models.CharField(
        "SNOMED CT code",
        max_length=18,
        blank=True,
        help_text="SNOMED CT body-structure concept id; blank when no verified code is on file",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(snomed_code="") | models.Q(snomed_code__regex=r"^[0-9]{6,18}$"),
                name="tpsite_snomed_code_digits",
            )
        ]

    def __str__(self) -> str:
        return self.name
