"""request_user: the admin's and the API's way to the signed-in user that services record."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from clinic.accounts.actors import request_user
from tests.factories import staff_user


@pytest.mark.django_db
def test_request_user_returns_the_signed_in_user():
    request = RequestFactory().get("/")
    request.user = user = staff_user("front desk")
    assert request_user(request) is user


def test_request_user_refuses_an_anonymous_request():
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    with pytest.raises(PermissionDenied):
        request_user(request)
