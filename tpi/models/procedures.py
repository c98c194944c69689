from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from clinic.clock import staff_date, staff_datetime
from clinic.transitions import Transitions

PAIN_SCORE_VALIDATORS = [MinValueValidator(0), MaxValueValidator(10)]
ICD10_VALIDATOR = RegexValidator(r"^[A-TV-Z][0-9][0-9AB](\.[0-9A-TV-Z]{1,4})?$", "Enter an ICD-10 code such as M79.18.")
CPT_FEW_MUSCLES = "20552"  # one or two muscles
CPT_MANY_MUSCLES = "20553"  # three or more muscles


def cpt_for_muscles(count: int) -> str:
    """Return the CPT code for trigger point injections into COUNT distinct muscles ('' for none)."""
    if count <= 0:
        return ""
    return CPT_FEW_MUSCLES if count <= 2 else CPT_MANY_MUSCLES


class ProcedureQuerySet(models.QuerySet):
    def with_muscle_count(self) -> "ProcedureQuerySet":
        """Annotate the number of distinct muscles injected (what the CPT code counts)."""
        # An aggregate drops Meta.ordering (GROUP BY): keep the list order stable for pagination.
        annotated = self.annotate(muscle_count=models.Count("injections__site", distinct=True))
        return annotated if annotated.query.order_by else annotated.order_by(*(Procedure._meta.ordering or ()))

    def with_steroid(self) -> "ProcedureQuerySet":
        """Procedures where at least one site got a steroid with the anaesthetic."""
        return self.filter(injections__steroid_agent__gt="").distinct()

    def anaesthetic_only(self) -> "ProcedureQuerySet":
        """Procedures where no site got a steroid."""
        return self.exclude(injections__steroid_agent__gt="")


class Procedure(models.Model):
    """One trigger point injection session: documented as a draft, then signed (or voided)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SIGNED = "signed", "Signed"
        VOIDED = "voided", "Voided"

    TRANSITIONS = Transitions(
        "procedure status",
        {Status.DRAFT: {Status.SIGNED, Status.VOIDED}, Status.SIGNED: {Status.VOIDED}, Status.VOIDED: set()},
    )

    class Guidance(models.TextChoices):
        LANDMARK = "landmark", "Landmark / palpation"
        ULTRASOUND = "ultrasound", "Ultrasound"

    patient = models.ForeignKey("clinic.Patient", on_delete=models.PROTECT, related_name="procedures")
    provider = models.ForeignKey("clinic.Provider", on_delete=models.PROTECT, related_name="procedures")
    appointment = models.ForeignKey(
        "scheduling.Appointment", on_delete=models.PROTECT, null=True, blank=True, related_name="procedures"
    )
    performed_at = models.DateTimeField()
    indication = models.TextField()
    indication_icd10 = models.CharField("ICD-10 code", max_length=8, blank=True, validators=[ICD10_VALIDATOR])
    pain_before = models.PositiveSmallIntegerField(
        "pain score before", validators=PAIN_SCORE_VALIDATORS, help_text="0-10 numeric rating scale"
    )
    pain_after = models.PositiveSmallIntegerField(
        "pain score right after", null=True, blank=True, validators=PAIN_SCORE_VALIDATORS
    )
    consent_obtained = models.BooleanField(default=False)
    consent_obtained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    consent_obtained_at = models.DateTimeField(null=True, blank=True)
    guidance = models.CharField(max_length=10, choices=Guidance.choices, default=Guidance.LANDMARK)
    complications = models.TextField(blank=True, help_text="Leave blank when there were none")
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.DRAFT, editable=False)
    signed_at = models.DateTimeField(null=True, blank=True, editable=False)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+"
    )
    voided_at = models.DateTimeField(null=True, blank=True, editable=False)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+"
    )
    void_reason = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProcedureQuerySet.as_manager()

    class Meta:
        ordering = ["-performed_at", "-id"]
        indexes = [models.Index(fields=["patient", "performed_at"]), models.Index(fields=["status", "performed_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(pain_before__lte=10), name="procedure_pain_before_0_10"),
            models.CheckConstraint(
                condition=models.Q(pain_after__isnull=True) | models.Q(pain_after__lte=10),
                name="procedure_pain_after_0_10",
            ),
            models.CheckConstraint(
                condition=models.Q(consent_obtained=False)
                | models.Q(consent_obtained_by__isnull=False, consent_obtained_at__isnull=False),
                name="procedure_consent_who_and_when",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="signed")
                | models.Q(consent_obtained=True, signed_at__isnull=False, signed_by__isnull=False),
                name="procedure_signed_has_signature_and_consent",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="voided") | (models.Q(voided_at__isnull=False) & ~models.Q(void_reason="")),
                name="procedure_voided_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"TPI {staff_date(self.performed_at)} {self.patient} ({self.status})"

    def clean(self) -> None:
        errors = {}
        if self.performed_at and self.performed_at > timezone.now():
            errors["performed_at"] = "A procedure cannot be documented before it happened (time is in the future)."
        if self.consent_obtained and not (self.consent_obtained_by_id and self.consent_obtained_at):
            errors["consent_obtained"] = "Record who obtained consent and when."
        if self.consent_obtained_at and self.consent_obtained_at > timezone.now():
            errors["consent_obtained_at"] = "Consent cannot be recorded in the future."
        if self.provider_id and not self.provider.is_injector:
            errors["provider"] = "Only a physician, nurse practitioner or PA performs injections."
        if self.appointment and self.patient_id and self.appointment.patient_id != self.patient_id:
            errors["appointment"] = "This appointment belongs to another patient."
        if errors:
            raise ValidationError(errors)

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def is_signed(self) -> bool:
        return self.status == self.Status.SIGNED

    @property
    def cpt_code(self) -> str:
        """Return CPT 20552 (one or two distinct muscles) or 20553 (three or more), derived, never typed."""
        count = getattr(self, "muscle_count", None)
        if count is None:
            count = len({i.site_id for i in self.injections.all()})
        return cpt_for_muscles(count)


class InjectionQuerySet(models.QuerySet):
    def with_steroid(self) -> "InjectionQuerySet":
        return self.exclude(steroid_agent="")

    def anaesthetic_only(self) -> "InjectionQuerySet":
        return self.filter(steroid_agent="", dry_needling=False)


class Injection(models.Model):
    """One treated site of a procedure: anaesthetic alone or with a steroid, or dry needling."""

    class Laterality(models.TextChoices):
        LEFT = "left", "Left"
        RIGHT = "right", "Right"
        BILATERAL = "bilateral", "Bilateral"

    class Anaesthetic(models.TextChoices):
        LIDOCAINE = "lidocaine", "Lidocaine"
        BUPIVACAINE = "bupivacaine", "Bupivacaine"
        ROPIVACAINE = "ropivacaine", "Ropivacaine"
        PROCAINE = "procaine", "Procaine"

    class Steroid(models.TextChoices):
        TRIAMCINOLONE = "triamcinolone", "Triamcinolone acetonide"
        METHYLPREDNISOLONE = "methylprednisolone", "Methylprednisolone acetate"
        DEXAMETHASONE = "dexamethasone", "Dexamethasone"
        BETAMETHASONE = "betamethasone", "Betamethasone"

    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="injections")
    site = models.ForeignKey("tpi.TriggerPointSite", on_delete=models.PROTECT, related_name="injections")
    laterality = models.CharField(max_length=9, choices=Laterality.choices)
    dry_needling = models.BooleanField(default=False, help_text="No medication injected")
    anaesthetic_agent = models.CharField(max_length=12, choices=Anaesthetic.choices, blank=True)
    anaesthetic_concentration_percent = models.DecimalField(
        "concentration (%)", max_digits=4, decimal_places=2, null=True, blank=True
    )
    anaesthetic_volume_ml = models.DecimalField("volume (mL)", max_digits=5, decimal_places=2, null=True, blank=True)
    steroid_agent = models.CharField(max_length=20, choices=Steroid.choices, blank=True)
    steroid_dose_mg = models.DecimalField("steroid dose (mg)", max_digits=6, decimal_places=2, null=True, blank=True)
    needle_gauge = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(18), MaxValueValidator(34)]
    )
    lot_number = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = InjectionQuerySet.as_manager()

    class Meta:
        ordering = ["procedure", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(steroid_agent="", steroid_dose_mg__isnull=True)
                | (~models.Q(steroid_agent="") & models.Q(steroid_dose_mg__gt=0)),
                name="injection_steroid_agent_and_dose_together",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    dry_needling=True,
                    anaesthetic_agent="",
                    anaesthetic_volume_ml__isnull=True,
                    anaesthetic_concentration_percent__isnull=True,
                    steroid_agent="",
                )
                | (
                    models.Q(dry_needling=False, anaesthetic_volume_ml__gt=0, anaesthetic_concentration_percent__gt=0)
                    & ~models.Q(anaesthetic_agent="")
                ),
                name="injection_anaesthetic_or_dry_needling",
            ),
            models.CheckConstraint(
                condition=models.Q(needle_gauge__isnull=True) | models.Q(needle_gauge__gte=18, needle_gauge__lte=34),
                name="injection_needle_gauge_18_34",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site} ({self.laterality})"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.dry_needling:
            for field in ("anaesthetic_agent", "anaesthetic_concentration_percent", "anaesthetic_volume_ml"):
                if getattr(self, field) not in ("", None):
                    errors[field] = "Dry needling injects no medication; leave this empty."
            if self.steroid_agent or self.steroid_dose_mg is not None:
                errors["steroid_agent"] = "Dry needling injects no medication; leave this empty."
        else:
            if not self.anaesthetic_agent:
                errors["anaesthetic_agent"] = "Name the local anaesthetic (or mark the site as dry needling)."
            limits = (
                ("anaesthetic_concentration_percent", settings.TPI_ANAESTHETIC_MAX_CONCENTRATION_PERCENT, "%"),
                ("anaesthetic_volume_ml", settings.TPI_ANAESTHETIC_MAX_VOLUME_ML, "mL"),
            )
            for field, maxima, unit in limits:
                _check_amount(errors, field, getattr(self, field), maxima.get(self.anaesthetic_agent), unit)
            if self.steroid_agent and self.steroid_dose_mg is None:
                errors["steroid_dose_mg"] = "A steroid needs its dose in mg."
            elif self.steroid_dose_mg is not None and not self.steroid_agent:
                errors["steroid_agent"] = "A steroid dose needs the steroid agent."
            elif self.steroid_agent:
                maximum = settings.TPI_STEROID_MAX_DOSE_MG.get(self.steroid_agent)
                _check_amount(errors, "steroid_dose_mg", self.steroid_dose_mg, maximum, "mg")
        if errors:
            raise ValidationError(errors)


def _check_amount(errors: dict, field: str, value: Decimal | None, maximum: float | None, unit: str) -> None:
    if field in errors:
        return
    if value is None:
        errors[field] = "This field is required."
    elif value <= 0:
        errors[field] = "Must be greater than zero."
    elif maximum is not None and value > Decimal(str(maximum)):
        errors[field] = f"Must be at most {maximum:g} {unit} for this agent."


class MassageNote(models.Model):
    """The post-injection massage that spreads the medication over the treated muscles."""

    class Technique(models.TextChoices):
        EFFLEURAGE = "effleurage", "Effleurage"
        PETRISSAGE = "petrissage", "Petrissage"
        ISCHEMIC_COMPRESSION = "ischemic_compression", "Ischemic compression"
        MYOFASCIAL_RELEASE = "myofascial_release", "Myofascial release"
        STRETCHING = "stretching", "Passive stretching"
        OTHER = "other", "Other (see notes)"

    class Tolerance(models.TextChoices):
        GOOD = "good", "Well tolerated"
        FAIR = "fair", "Some discomfort"
        POOR = "poor", "Poorly tolerated, stopped early"

    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="massage_notes")
    therapist = models.ForeignKey("clinic.Provider", on_delete=models.PROTECT, related_name="massage_notes")
    performed_at = models.DateTimeField()
    sites = models.ManyToManyField("tpi.TriggerPointSite", related_name="massage_notes")
    duration_minutes = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(180)])
    technique = models.CharField(max_length=20, choices=Technique.choices)
    tolerance = models.CharField(max_length=4, choices=Tolerance.choices)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["procedure", "performed_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=1, duration_minutes__lte=180),
                name="massage_duration_1_180",
            )
        ]

    def __str__(self) -> str:
        return f"Massage {staff_datetime(self.performed_at)} ({self.duration_minutes} min)"

    def clean(self) -> None:
        if self.performed_at and self.performed_at > timezone.now():
            raise ValidationError({"performed_at": "A massage cannot be documented before it happened."})


class Addendum(models.Model):
    """A correction or late entry on a signed procedure; the signed text itself never changes."""

    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    text = models.TextField()

    class Meta:
        ordering = ["procedure", "created_at", "id"]
        verbose_name_plural = "addenda"
        constraints = [models.CheckConstraint(condition=~models.Q(text=""), name="addendum_text_not_empty")]

    def __str__(self) -> str:
        return f"Addendum {staff_datetime(self.created_at)}"
