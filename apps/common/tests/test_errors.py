"""Every API error has the shape {"error": {"code", "message"}}: 404, 405, 500 included."""

import pytest

pytestmark = pytest.mark.django_db


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)


def test_unknown_api_url_is_json_404(client):
    assert_error(client.get("/api/player/v1/nothing-here"), 404, "NOT_FOUND")


def test_non_api_404_stays_html(client):
    response = client.get("/nothing-here")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_wrong_method_is_json_405(client):
    assert_error(client.get("/api/player/v1/auth/login"), 405, "METHOD_NOT_ALLOWED")


def test_malformed_json_is_invalid_request(client):
    response = client.post("/api/player/v1/auth/login", data=b"{", content_type="application/json")
    assert_error(response, 400, "INVALID_REQUEST")


def test_wrong_content_type_is_415(client):
    response = client.post("/api/player/v1/auth/login", data="username=a", content_type="text/plain")
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.urls("apps.common.tests.urls")
def test_exception_in_api_view_is_json_500_and_logged_with_request_id(client, caplog):
    client.raise_request_exception = False

    response = client.get("/api/test/broken")

    assert_error(response, 500, "INTERNAL_ERROR")
    assert "boom" not in response.content.decode()
    logged = [r for r in caplog.records if isinstance(r.msg, dict) and r.msg.get("event") == "api.unhandled_exception"]
    assert len(logged) == 1
    assert logged[0].msg["request_id"] == response["X-Request-ID"]
    assert logged[0].exc_info[1].args == ("boom",)


@pytest.mark.urls("apps.common.tests.urls")
def test_exception_outside_drf_under_api_is_json_500(client):
    client.raise_request_exception = False
    assert_error(client.get("/api/test/broken-plain"), 500, "INTERNAL_ERROR")
