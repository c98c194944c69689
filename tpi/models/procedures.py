from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone

from clinic.clock import local_date, staff_date, staff_datetime
from clinic.transitions import Transitions

PAIN_SCORE_VALIDATORS = [MinValueValidator(0), MaxValueValidator(10)]
ICD10_VALIDATOR = RegexValidator(r"^[A-TV-Z][0-9][0-9AB](\.[0-9A-TV-Z]{1,4})?$", "Enter an ICD-10 code such as M79.18.")
CPT_FEW_MUSCLES = "20552"  # trigger point injection(s), one or two muscles
CPT_MANY_MUSCLES = "20553"  # trigger point injection(s), three or more muscles
CPT_NEEDLING_FEW_MUSCLES = "20560"  # needle insertion(s) without injection, one or two muscles
CPT_NEEDLING_MANY_MUSCLES = "20561"  # needle insertion(s) without injection, three or more muscles
CPT_DESCRIPTIONS = {
    CPT_FEW_MUSCLES: "Injection(s); single or multiple trigger point(s), 1 or 2 muscle(s)",
    CPT_MANY_MUSCLES: "Injection(s); single or multiple trigger point(s), 3 or more muscles",
    CPT_NEEDLING_FEW_MUSCLES: "Needle insertion(s) without injection(s); 1 or 2 muscle(s)",
    CPT_NEEDLING_MANY_MUSCLES: "Needle insertion(s) without injection(s); 3 or more muscles",
}


def cpt_for_muscles(count: int) -> str:
    """Return the injection CPT code for COUNT distinct muscles injected ('' for none)."""
    if count <= 0:
        return ""
    return CPT_FEW_MUSCLES if count <= 2 else CPT_MANY_MUSCLES


def cpt_for_needled_muscles(count: int) -> str:
    """Return the dry-needling CPT code for COUNT distinct muscles needled without injection ('' for none)."""
    if count <= 0:
        return ""
    return CPT_NEEDLING_FEW_MUSCLES if count <= 2 else CPT_NEEDLING_MANY_MUSCLES


def cpt_codes_for(*, injected: int, needled_only: int) -> list[str]:
    """Return the CPT codes for INJECTED muscles and muscles NEEDLED_ONLY (dry needling, no injection)."""
    return [code for code in (cpt_for_muscles(injected), cpt_for_needled_muscles(needled_only)) if code]


def _distinct_sites(*, dry_needling: bool | None) -> Coalesce:
    """Return a subquery counting the distinct sites of the outer procedure (DRY_NEEDLING None: all)."""
    rows = Injection.objects.filter(procedure=models.OuterRef("pk"))
    if dry_needling is not None:
        rows = rows.filter(dry_needling=dry_needling)
    counted = rows.order_by().values("procedure").annotate(n=models.Count("site", distinct=True)).values("n")
    # No injection yet: 0, not NULL (a NULL would send cpt_codes back to the database for each row).
    return Coalesce(models.Subquery(counted, output_field=models.IntegerField()), 0)


class ProcedureQuerySet(models.QuerySet):
    def with_muscle_count(self) -> "ProcedureQuerySet":
        """Annotate the distinct muscles injected and dry-needled without injection (what the CPT codes count)."""
        # A correlated subquery per row, not a GROUP BY over the join: PostgreSQL reads the page's rows
        # from the ordering index, stops at the LIMIT and counts the injections of those rows only, and
        # the page count (which drops unused annotations) stays a plain COUNT over procedures.
        # A muscle both injected and dry-needled counts once, as injected: needled-only = all - injected.
        return self.annotate(
            muscle_count=_distinct_sites(dry_needling=False), all_muscle_count=_distinct_sites(dry_needling=None)
        )

    def with_steroid(self) -> "ProcedureQuerySet":
        """Procedures where at least one site got a steroid with the anaesthetic."""
        return self.filter(injections__steroid_agent__gt="").distinct()

    def anaesthetic_only(self) -> "ProcedureQuerySet":
        """Procedures with at least one injection and no steroid anywhere (dry needling alone is not)."""
        injected = Injection.objects.filter(procedure=models.OuterRef("pk"), dry_needling=False)
        return self.filter(models.Exists(injected)).exclude(injections__steroid_agent__gt="")

    def dry_needling(self, value: bool = True) -> "ProcedureQuerySet":
        """Procedures where at least one site was dry-needled (or, VALUE False, none was)."""
        needled = Injection.objects.filter(procedure=models.OuterRef("pk"), dry_needling=True)
        return self.filter(models.Exists(needled) if value else ~models.Exists(needled))

    def with_agent(self, agent: str) -> "ProcedureQuerySet":
        """Procedures where at least one site got AGENT (an anaesthetic or a steroid)."""
        used = Injection.objects.filter(procedure=models.OuterRef("pk")).filter(
            models.Q(anaesthetic_agent=agent) | models.Q(steroid_agent=agent)
        )
        return self.filter(models.Exists(used))

    def with_site(self, site_id: int) -> "ProcedureQuerySet":
        """Procedures where the catalogue site SITE_ID was treated."""
        return self.filter(models.Exists(Injection.objects.filter(procedure=models.OuterRef("pk"), site_id=site_id)))


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
        # One index per list ordering and filter: every list walks one and stops at its page (see benchmarks.lists).
        indexes = [
            models.Index(fields=["patient", "performed_at"]),
            models.Index(fields=["status", "performed_at"]),
            models.Index(fields=["performed_at", "id"]),
            models.Index(fields=["provider", "performed_at", "id"]),
        ]
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

    def _muscle_counts(self) -> tuple[int, int]:
        """Return (muscles injected, muscles dry-needled only), from the annotation when present."""
        injected = getattr(self, "muscle_count", None)
        every = getattr(self, "all_muscle_count", None)
        if injected is None or every is None:
            rows = list(self.injections.all())
            injected = len({i.site_id for i in rows if not i.dry_needling})
            every = len({i.site_id for i in rows})
        return injected, every - injected

    @property
    def cpt_codes(self) -> list[str]:
        """Return the CPT codes derived from what was done (20552/20553 injected, 20560/20561 needled only)."""
        injected, needled_only = self._muscle_counts()
        return cpt_codes_for(injected=injected, needled_only=needled_only)

    @property
    def cpt_code(self) -> str:
        """Return the CPT codes as one line ("20552", "20552, 20560"), derived, never typed."""
        return ", ".join(self.cpt_codes)

    @property
    def cpt_descriptions(self) -> list[tuple[str, str]]:
        """Return each CPT code with its description."""
        return [(code, CPT_DESCRIPTIONS[code]) for code in self.cpt_codes]


class Laterality(models.TextChoices):
    """The side of a treated (injected or massaged) site."""

    LEFT = "left", "Left"
    RIGHT = "right", "Right"
    BILATERAL = "bilateral", "Bilateral"
    MIDLINE = "midline", "Midline"


class InjectionQuerySet(models.QuerySet):
    def with_steroid(self) -> "InjectionQuerySet":
        return self.exclude(steroid_agent="")

    def anaesthetic_only(self) -> "InjectionQuerySet":
        return self.filter(steroid_agent="", dry_needling=False)


class Injection(models.Model):
    """One treated site of a procedure: anaesthetic alone or with a steroid, or dry needling."""

    Laterality = Laterality

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

    @property
    def anaesthetic_volume_total_ml(self) -> Decimal | None:
        """Return the volume injected at the site: the volume is stated per side, so twice it when bilateral."""
        if self.anaesthetic_volume_ml is None:
            return None
        return self.anaesthetic_volume_ml * (2 if self.laterality == Laterality.BILATERAL else 1)

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
        if self.lot_number.strip() and "lot_number" not in errors:
            refusal = self._lot_refusal()
            if refusal:
                errors["lot_number"] = refusal
        if errors:
            raise ValidationError(errors)

    def _lot_refusal(self) -> str | None:
        """Return why the lot may not be recorded (expired on the procedure's clinic day, another agent's)."""
        from tpi.models.stock import StockLot  # stock.py imports this module

        procedure = self._state.fields_cache.get("procedure") or (self.procedure if self.procedure_id else None)
        performed_at = getattr(procedure, "performed_at", None)
        day = local_date(performed_at or timezone.now())
        return StockLot.objects.refusal(agent=self.anaesthetic_agent, lot_number=self.lot_number, on=day)


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
    """The therapist's own note of the post-injection massage: a draft until the therapist signs it.

    It hangs off the procedure but is not part of it: it may be added after the procedure is signed
    (within settings.TPI_MASSAGE_NOTE_WINDOW) and is frozen by its own signature, never the procedure's.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SIGNED = "signed", "Signed"

    TRANSITIONS = Transitions("massage note status", {Status.DRAFT: {Status.SIGNED}, Status.SIGNED: set()})

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
    sites = models.ManyToManyField("tpi.TriggerPointSite", through="tpi.MassagedSite", related_name="massage_notes")
    duration_minutes = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(180)])
    technique = models.CharField(max_length=20, choices=Technique.choices)
    tolerance = models.CharField(max_length=4, choices=Tolerance.choices)
    notes = models.TextField(blank=True)
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.DRAFT, editable=False)
    signed_at = models.DateTimeField(null=True, blank=True, editable=False)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["procedure", "performed_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=1, duration_minutes__lte=180),
                name="massage_duration_1_180",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="signed") | models.Q(signed_at__isnull=False, signed_by__isnull=False),
                name="massage_signed_has_signature",
            ),
        ]

    def __str__(self) -> str:
        return f"Massage {staff_datetime(self.performed_at)} ({self.duration_minutes} min)"

    def clean(self) -> None:
        if self.performed_at and self.performed_at > timezone.now():
            raise ValidationError({"performed_at": "A massage cannot be documented before it happened."})

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def is_signed(self) -> bool:
        return self.status == self.Status.SIGNED


class MassagedSite(models.Model):
    """One site a massage note covers, with its side (the table Django made for the plain M2M before)."""

    note = models.ForeignKey(
        MassageNote, on_delete=models.PROTECT, db_column="massagenote_id", related_name="massaged_sites"
    )
    site = models.ForeignKey(
        "tpi.TriggerPointSite", on_delete=models.PROTECT, db_column="triggerpointsite_id", related_name="+"
    )
    laterality = models.CharField(max_length=9, choices=Laterality.choices)

    class Meta:
        db_table = "tpi_massagenote_sites"
        ordering = ["note", "id"]
        constraints = [models.UniqueConstraint(fields=["note", "site"], name="massagedsite_once_per_note")]

    def __str__(self) -> str:
        return f"{self.site} ({self.laterality})"


class AddendumFields(models.Model):
    """What every addendum holds: who wrote it, when (shown in clinic time), and the text."""

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    text = models.TextField()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"Addendum {staff_datetime(self.created_at)}"


class MassageNoteAddendum(AddendumFields):
    """A correction or late entry on a signed massage note, by its therapist (or a clinic admin)."""

    note = models.ForeignKey(MassageNote, on_delete=models.PROTECT, related_name="addenda")

    class Meta:
        ordering = ["note", "created_at", "id"]
        verbose_name = "massage note addendum"
        verbose_name_plural = "massage note addenda"
        constraints = [models.CheckConstraint(condition=~models.Q(text=""), name="massage_addendum_text_not_empty")]


class Addendum(AddendumFields):
    """A correction or late entry on a signed procedure; the signed text itself never changes."""

    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="addenda")

    class Meta:
        ordering = ["procedure", "created_at", "id"]
        verbose_name_plural = "addenda"
        constraints = [models.CheckConstraint(condition=~models.Q(text=""), name="addendum_text_not_empty")]


class SignAcknowledgement(models.Model):
    """A pre-sign warning the signer acknowledged, stored with the signature (who, when, which text)."""

    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="acknowledgements")
    key = models.CharField(max_length=60, help_text="The warning's stable code, e.g. anticoagulants")
    message = models.TextField(help_text="The warning as the signer read it")
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField()

    class Meta:
        ordering = ["procedure", "id"]
        constraints = [models.UniqueConstraint(fields=["procedure", "key"], name="acknowledgement_once_per_warning")]

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"
