"""Session, CSRF, authentication and message middleware run for the browser and the player API,
and are skipped on the signed integrator APIs (apps.common.middleware.SIGNED_API_PREFIXES)."""

import pytest
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.test import RequestFactory

from apps.common import middleware

SCOPED = [
    middleware.SessionMiddleware,
    middleware.CsrfViewMiddleware,
    middleware.AuthenticationMiddleware,
    middleware.MessageMiddleware,
]


def ran(middleware_class, path: str, monkeypatch) -> bool:
    """Whether the middleware's own request hook ran for a POST to `path`."""
    calls = []
    monkeypatch.setattr(middleware_class, "process_request", lambda self, request: calls.append(request.path))
    chain = middleware_class(lambda request: HttpResponse())
    chain(RequestFactory().post(path, data=b"{}", content_type="application/json"))
    return bool(calls)


@pytest.mark.parametrize("middleware_class", SCOPED)
def test_browser_middleware_runs_outside_the_signed_apis(middleware_class, monkeypatch):
    assert ran(middleware_class, "/api/player/v1/wallet", monkeypatch)
    assert ran(middleware_class, "/backoffice/", monkeypatch)


@pytest.mark.parametrize("middleware_class", SCOPED)
def test_browser_middleware_is_skipped_on_the_wallet_api(middleware_class, monkeypatch):
    assert not ran(middleware_class, "/api/wallet/v1/bet", monkeypatch)


def test_the_scoped_classes_are_subclasses_of_djangos():
    # The admin's system checks look for subclasses of Django's own classes in MIDDLEWARE.
    originals = [SessionMiddleware, CsrfViewMiddleware, AuthenticationMiddleware, MessageMiddleware]
    for scoped, original in zip(SCOPED, originals, strict=True):
        assert issubclass(scoped, original)
