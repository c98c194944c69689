"""FHIR R4 (validated as R4B 4.3.0 with fhir.resources) read API and bulk export of the clinic's records.

It sits at the top of the dependency stack (tpi -> scheduling -> clinic): it reads patients, providers,
messages and consent (clinic), appointments (scheduling) and procedures (tpi), and nothing below imports
it. The routes are mounted under /fhir/R4/ by tpi/root_urls.py (see clinic.urls and app_modules).
See docs/fhir.md.
"""
