"""Session, CSRF, authentication and message middleware run for the browser and the player API
called with its cookies, and are skipped on the signed integrator APIs
(apps.common.middleware.SIGNED_API_PREFIXES) and on a player API call with a bearer token and no
cookie."""

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


def ran(middleware_class, path: str, monkeypatch, **headers) -> bool:
    """Whether the middleware's own request hook ran for a POST to `path` with `headers`."""
    calls = []
    monkeypatch.setattr(middleware_class, "process_request", lambda self, request: calls.append(request.path))
    chain = middleware_class(lambda request: HttpResponse())
    chain(RequestFactory().post(path, data=b"{}", content_type="application/json", headers=headers))
    return bool(calls)


@pytest.mark.parametrize("middleware_class", SCOPED)
def test_browser_middleware_runs_outside_the_signed_apis(middleware_class, monkeypatch):
    assert ran(middleware_class, "/api/player/v1/wallet", monkeypatch)
    assert ran(middleware_class, "/backoffice/", monkeypatch)


@pytest.mark.parametrize("middleware_class", SCOPED)
def test_browser_middleware_is_skipped_on_the_wallet_api(middleware_class, monkeypatch):
    assert not ran(middleware_class, "/api/wallet/v1/bet", monkeypatch)


@pytest.mark.parametrize("middleware_class", SCOPED)
def test_browser_middleware_is_skipped_for_a_bearer_token_without_cookies(middleware_class, monkeypatch):
    assert not ran(middleware_class, "/api/player/v1/sportsbook/bets", monkeypatch, Authorization="Bearer pt_x")


@pytest.mark.parametrize("middleware_class", SCOPED)
@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/player/v1/sportsbook/bets", {"Authorization": "Bearer pt_x", "Cookie": "sessionid=abc"}),
        ("/api/player/v1/sportsbook/bets", {"Authorization": "Basic eDp5"}),
        ("/sportsbook/", {"Authorization": "Bearer pt_x"}),  # the site's pages keep their session
        ("/backoffice/", {"Authorization": "Bearer pt_x"}),
    ],
)
def test_browser_middleware_runs_for_a_browsers_call(middleware_class, path, headers, monkeypatch):
    assert ran(middleware_class, path, monkeypatch, **headers)


def test_the_scoped_classes_are_subclasses_of_djangos():
    # The admin's system checks look for subclasses of Django's own classes in MIDDLEWARE.
    originals = [SessionMiddleware, CsrfViewMiddleware, AuthenticationMiddleware, MessageMiddleware]
    for scoped, original in zip(SCOPED, originals, strict=True):
        assert issubclass(scoped, original)
