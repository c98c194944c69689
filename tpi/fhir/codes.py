"""The code systems and value mappings the FHIR resources use, in one place (see docs/fhir.md)."""

from clinic.messaging.models import Message
from clinic.models import Patient
from scheduling.models import Appointment
from tpi.models import Injection, Laterality, Procedure

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
CPT = "http://www.ama-assn.org/go/cpt"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
NPI = "http://hl7.org/fhir/sid/us-npi"
UCUM = "http://unitsofmeasure.org"
V2_IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
PARTICIPATION_MODE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
# The laterality of a body site as a SNOMED CT qualifier value, carried by this extension on bodySite
# (the published laterality-qualifier extension; R4 core has no laterality element).
LATERALITY_EXTENSION = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-laterality-qualifier"

PAIN_SCORE = {
    "system": LOINC,
    "code": "72514-3",
    "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
}
INTRAMUSCULAR_ROUTE = {"system": SNOMED, "code": "78421000", "display": "Intramuscular route"}

LATERALITY: dict[str, tuple[str, str]] = {
    Laterality.LEFT: ("7771000", "Left"),
    Laterality.RIGHT: ("24028007", "Right"),
    Laterality.BILATERAL: ("51440002", "Right and left"),
    Laterality.MIDLINE: ("260528009", "Median"),
}

# RxNorm ingredient (IN) concepts of the agents; the stored label (e.g. "Triamcinolone acetonide") is the text.
RXNORM_INGREDIENT: dict[str, tuple[str, str]] = {
    Injection.Anaesthetic.LIDOCAINE: ("6387", "lidocaine"),
    Injection.Anaesthetic.BUPIVACAINE: ("1815", "bupivacaine"),
    Injection.Anaesthetic.ROPIVACAINE: ("35780", "ropivacaine"),
    Injection.Anaesthetic.PROCAINE: ("8691", "procaine"),
    Injection.Steroid.TRIAMCINOLONE: ("10759", "triamcinolone"),
    Injection.Steroid.METHYLPREDNISOLONE: ("6902", "methylprednisolone"),
    Injection.Steroid.DEXAMETHASONE: ("3264", "dexamethasone"),
    Injection.Steroid.BETAMETHASONE: ("1514", "betamethasone"),
}

# A draft is a procedure that happened but whose note is not signed yet: "in-progress" (the record is not
# final; "preparation" would say the procedure has not started). Signed: completed; voided: entered-in-error.
PROCEDURE_STATUS: dict[str, str] = {
    Procedure.Status.DRAFT: "in-progress",
    Procedure.Status.SIGNED: "completed",
    Procedure.Status.VOIDED: "entered-in-error",
}
# The pain scores and doses of a draft are preliminary until the note is signed.
OBSERVATION_STATUS: dict[str, str] = {
    Procedure.Status.DRAFT: "preliminary",
    Procedure.Status.SIGNED: "final",
    Procedure.Status.VOIDED: "entered-in-error",
}
MEDICATION_STATUS: dict[str, str] = PROCEDURE_STATUS

# R4 has no "confirmed": a confirmed visit is booked with the patient's participation accepted.
APPOINTMENT_STATUS: dict[str, str] = {
    Appointment.Status.BOOKED: "booked",
    Appointment.Status.CONFIRMED: "booked",
    Appointment.Status.CHECKED_IN: "checked-in",
    Appointment.Status.COMPLETED: "fulfilled",
    Appointment.Status.CANCELLED: "cancelled",
    Appointment.Status.NO_SHOW: "noshow",
}

GENDER: dict[str, str] = {
    Patient.Sex.FEMALE: "female",
    Patient.Sex.MALE: "male",
    Patient.Sex.OTHER: "other",
    Patient.Sex.UNKNOWN: "unknown",
}

MEDIUM = {
    "sms": {"system": PARTICIPATION_MODE, "code": "SMSWRIT", "display": "SMS written"},
    "email": {"system": PARTICIPATION_MODE, "code": "EMAILWRIT", "display": "email"},
}
# Communications are the messages that left the clinic: sent, or sent and delivered.
COMMUNICATION_STATUSES = (Message.Status.SENT, Message.Status.DELIVERED)
