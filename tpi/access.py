"""Who may see and change which procedure and massage note: the object rules, in one place.

Model permissions (tpi/roles.py) say what a role may do at all; these say to which rows:
- a clinic admin: every procedure and note;
- a provider: the procedures where they are the provider (and, while a break-glass grant is open,
  that patient's chart);
- a massage therapist: reads any procedure's basics and sites (the API shows them no injections or
  addenda) and writes only their own massage notes.
"""

from typing import Any

from django.db.models import BooleanField, F, Func, Q, QuerySet, Subquery

from clinic.accounts.actors import AnyUser
from clinic.accounts.models import BreakGlassGrant
from clinic.models import Provider
from clinic.roles import MASSAGE_THERAPIST, has_role, is_clinic_admin
from tpi.models import MassageNote, Procedure


def _provider_id(user: AnyUser | None) -> int | None:
    if not (user and user.is_authenticated):
        return None
    provider = getattr(user, "provider", None)
    return provider.pk if provider is not None else None


def _grant_patient_ids(user: AnyUser | None) -> QuerySet[BreakGlassGrant, dict[str, Any]]:
    return BreakGlassGrant.objects.active().filter(user=user).values("patient_id")


def procedure_is_own(*, user: AnyUser | None, procedure: Procedure) -> bool:
    """Return True when USER is PROCEDURE's provider."""
    provider_id = _provider_id(user)
    return provider_id is not None and provider_id == procedure.provider_id


def procedure_may_change(*, user: AnyUser | None, procedure: Procedure) -> bool:
    """Return True when USER may change, sign or void PROCEDURE: its provider or a clinic admin."""
    return is_clinic_admin(user) or procedure_is_own(user=user, procedure=procedure)


def procedure_may_view(*, user: AnyUser | None, procedure: Procedure) -> bool:
    """Return True when USER may read PROCEDURE (see the module rules)."""
    if procedure_may_change(user=user, procedure=procedure) or has_role(user, MASSAGE_THERAPIST):
        return True
    return _grant_patient_ids(user).filter(patient_id=procedure.patient_id).exists()


class AmongIds(Func):
    """COLUMN among the ids SUBQUERY returns, as a condition an index can serve inside an OR."""

    # PostgreSQL answers `col IN (subquery)` inside an OR with a per-row hashed SubPlan over the whole table;
    # `col = ANY(ARRAY(subquery))` is an InitPlan and an index condition.
    arg_joiner = " = ANY(ARRAY"
    template = "%(expressions)s)"
    conditional = True
    output_field = BooleanField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return super().as_sql(compiler, connection, arg_joiner=" IN ", template="%(expressions)s", **extra_context)


def procedures_visible(*, user: AnyUser | None, queryset: QuerySet[Any]) -> QuerySet[Any]:
    """Return QUERYSET (of procedures) cut down to the rows USER may read."""
    if is_clinic_admin(user) or has_role(user, MASSAGE_THERAPIST):
        return queryset
    if not (user and user.is_authenticated):
        return queryset.none()
    # The provider and the granted patients as InitPlans (computed once, before the scan), not a join and
    # a per-row subquery: the list walks the (provider, performed_at) index, or ORs two index scans.
    own = Subquery(Provider.objects.filter(user=user).order_by().values("pk")[:1])
    return queryset.filter(
        Q(provider_id=own) | Q(AmongIds(F("patient_id"), Subquery(_grant_patient_ids(user).order_by())))
    )


def procedure_shows_clinical_detail(*, user: AnyUser | None) -> bool:
    """Return False for readers who get the procedure basics only (massage therapists)."""
    return user is not None and user.has_perm("tpi.view_injection")


def massage_note_may_change(*, user: AnyUser | None, note: MassageNote) -> bool:
    """Return True when USER wrote NOTE (is its therapist) or is a clinic admin."""
    provider_id = _provider_id(user)
    return is_clinic_admin(user) or (provider_id is not None and provider_id == note.therapist_id)


def massage_notes_visible(*, user: AnyUser | None, queryset: QuerySet[Any]) -> QuerySet[Any]:
    """Return QUERYSET (of massage notes) cut down to the rows USER may read."""
    if is_clinic_admin(user) or has_role(user, MASSAGE_THERAPIST):
        return queryset
    if not (user and user.is_authenticated):
        return queryset.none()
    return queryset.filter(Q(procedure__provider__user=user) | Q(procedure__patient_id__in=_grant_patient_ids(user)))


def clinical_rows_visible(*, user: AnyUser | None, queryset: QuerySet[Any]) -> QuerySet[Any]:
    """Return QUERYSET (procedures, or rows hanging off a procedure) cut down to what USER may read.

    One entry point for every admin list, inline and look-up that shows clinical rows, so they all
    follow the rules above; a model it does not know is refused loudly rather than shown unfiltered.
    """
    model = queryset.model
    if model is Procedure:
        return procedures_visible(user=user, queryset=queryset)
    if model is MassageNote:
        return massage_notes_visible(user=user, queryset=queryset)
    if any(f.name == "procedure" and f.related_model is Procedure for f in model._meta.get_fields()):
        visible = procedures_visible(user=user, queryset=Procedure.objects.all())
        return queryset.filter(procedure__in=visible.values("pk"))
    raise TypeError(f"No object rule for {model._meta.label}.")
