"""Onboarding imports from a clinic's previous system: patients here, appointments in the scheduling app."""
