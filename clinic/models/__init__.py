from .health import HealthPing
from .patients import Patient
from .providers import Provider

__all__ = ["HealthPing", "Patient", "Provider"]
