"""Provider NPI: optional, 10 digits with the Luhn check digit over the 80840 prefix, unique."""

import pytest
from django.core.exceptions import ValidationError

from tests.factories import ProviderFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("npi", ["", "1234567893"])
def test_valid_or_blank_npi_is_accepted(npi):
    provider = ProviderFactory(npi=npi)

    provider.full_clean()


@pytest.mark.parametrize(
    ("npi", "message"),
    [("1234567890", "This NPI's check digit is wrong."), ("12345", "An NPI is exactly 10 digits.")],
)
def test_invalid_npi_is_refused(npi, message):
    provider = ProviderFactory.build(npi=npi, user=ProviderFactory().user)

    with pytest.raises(ValidationError) as raised:
        provider.full_clean(validate_unique=False)

    assert raised.value.message_dict["npi"] == [message]
