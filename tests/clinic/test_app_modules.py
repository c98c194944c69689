"""clinic.app_modules finds what each app contributes; clinic/urls.py mounts every app's `root_urls` at the root."""

from django.urls import URLResolver, get_resolver, resolve

from clinic.app_modules import app_modules


def test_root_urls_are_found_in_the_apps_that_have_them():
    assert [module.__name__ for module in app_modules("root_urls")] == ["tpi.root_urls"]


def test_the_root_urlconf_mounts_every_apps_root_urls():
    mounted = [p.urlconf_module for p in get_resolver().url_patterns if isinstance(p, URLResolver)]
    for module in app_modules("root_urls"):
        assert module in mounted, f"{module.__name__} is not mounted by clinic/urls.py"


def test_an_apps_root_urls_answer_at_the_site_root():
    assert resolve("/fhir/R4/metadata").url_name == "fhir-metadata"
    assert resolve("/fhir/R4/Patient/12").url_name == "fhir-read"
    assert resolve("/api/patients/").url_name == "patient-list"  # the API's own mount is untouched
