"""/api/procedures/ filters that say what they mean; a bad value is a 400 naming the parameter."""

import pytest
from rest_framework.test import APIClient

from tests.factories import InjectionFactory, PatientFactory, ProviderFactory, site

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider():
    return ProviderFactory()


@pytest.fixture
def api(provider):
    client = APIClient()
    client.force_authenticate(provider.user)
    return client


@pytest.fixture
def procedures(frozen, provider):
    """Three procedures of one patient: anaesthetic alone, with a steroid, dry needling alone."""
    patient = PatientFactory()
    common = {"procedure__patient": patient, "procedure__provider": provider}
    alone = InjectionFactory(**common, site=site("Upper trapezius"), anaesthetic_agent="bupivacaine").procedure
    steroid = InjectionFactory(
        **common, site=site("Rhomboids"), steroid_agent="dexamethasone", steroid_dose_mg="4"
    ).procedure
    needled = InjectionFactory(
        **common,
        site=site("Piriformis"),
        dry_needling=True,
        anaesthetic_agent="",
        anaesthetic_concentration_percent=None,
        anaesthetic_volume_ml=None,
    ).procedure
    return {"patient": patient, "alone": alone, "steroid": steroid, "needled": needled}


def ids(api, query):
    response = api.get(f"/api/procedures/?{query}")
    assert response.status_code == 200, response.json()
    return {p["id"] for p in response.json()["results"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("anaesthetic_only=true", {"alone"}),
        ("anaesthetic_only=false", {"steroid", "needled"}),
        ("with_steroid=true", {"steroid"}),
        ("with_steroid=false", {"alone", "needled"}),
        ("dry_needling=true", {"needled"}),
        ("dry_needling=false", {"alone", "steroid"}),
        ("agent=bupivacaine", {"alone"}),
        ("agent=lidocaine", {"steroid"}),
        ("agent=dexamethasone", {"steroid"}),
        ("agent=triamcinolone", set()),
    ],
)
def test_filters_select_what_they_name(api, procedures, query, expected):
    assert ids(api, f"patient={procedures['patient'].pk}&{query}") == {procedures[k].pk for k in expected}


def test_filter_by_site(api, procedures):
    query = f"patient={procedures['patient'].pk}&site={site('Piriformis').pk}"

    assert ids(api, query) == {procedures["needled"].pk}
    assert ids(api, f"patient={procedures['patient'].pk}&site=999999") == set()


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("with_steroid=maybe", "with_steroid"),
        ("anaesthetic_only=yes", "anaesthetic_only"),
        ("dry_needling=1", "dry_needling"),
        ("agent=aspirin", "agent"),
        ("site=trapezius", "site"),
    ],
)
def test_a_bad_filter_value_is_a_400_naming_the_parameter(api, procedures, query, parameter):
    response = api.get(f"/api/procedures/?{query}")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [parameter]


def test_the_codes_and_their_descriptions_are_in_the_detail(api, procedures):
    body = api.get(f"/api/procedures/{procedures['needled'].pk}/").json()

    assert body["cpt_code"] == "20560"
    assert body["cpt_codes"] == [
        {"code": "20560", "description": "Needle insertion(s) without injection(s); 1 or 2 muscle(s)"}
    ]
