"""tpi's share of the staff roles (see clinic.roles): who may read and write clinical notes.

The front desk sees no clinical notes; it works the follow-up review queue (follow-ups carry a kind,
a due time and the patient's pain answer, no note text). Providers document and sign procedures
(object rules: their own only, see tpi.access). Massage therapists write massage notes and read the
procedure basics and sites the note needs, not the injections or addenda.
"""

from clinic.roles import FRONT_DESK, MASSAGE_THERAPIST, PROVIDER

ROLE_PERMISSIONS = {
    # Treatment plans: the front desk books and re-books their visits (who, where, when; "book now") and
    # works the occurrences needing review; providers create plans.
    FRONT_DESK: [
        "tpi.view_followup",
        "tpi.change_followup",
        "tpi.view_treatmentplan",
        "tpi.change_treatmentplan",
        "tpi.view_planoccurrence",
        "tpi.change_planoccurrence",
    ],
    PROVIDER: [
        "tpi.view_procedure",
        "tpi.add_procedure",
        "tpi.change_procedure",
        "tpi.view_injection",
        "tpi.add_injection",
        "tpi.change_injection",
        "tpi.view_addendum",
        "tpi.add_addendum",
        "tpi.view_massagenote",
        "tpi.view_followup",
        "tpi.change_followup",
        "tpi.view_triggerpointsite",
        "tpi.view_stocklot",
        "tpi.view_treatmentplan",
        "tpi.add_treatmentplan",
        "tpi.change_treatmentplan",
        "tpi.view_planoccurrence",
        "tpi.change_planoccurrence",
        "tpi.view_procedureoutcome",  # the results dashboard and "consider repeat", own procedures
    ],
    MASSAGE_THERAPIST: [
        "tpi.view_procedure",
        "tpi.view_massagenote",
        "tpi.add_massagenote",
        "tpi.change_massagenote",
        "tpi.view_triggerpointsite",
    ],
}
