"""The OpenAPI schema is valid OpenAPI 3, covers the API, and docs/openapi.yaml is its current copy."""

import pytest
import yaml
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiYamlRenderer
from drf_spectacular.validation import validate_schema

from tests.support import ROOT

COMMITTED = ROOT / "docs" / "openapi.yaml"


def generate() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def test_schema_validates_as_openapi_3():
    schema = generate()
    validate_schema(schema)  # drf-spectacular's own validator (the OpenAPI 3.0 JSON schema); raises if invalid
    assert schema["openapi"].startswith("3.")


def test_schema_covers_the_player_api():
    paths = generate()["paths"]
    for path in (
        "/api/player/v1/auth/register",
        "/api/player/v1/auth/login",
        "/api/player/v1/auth/logout",
        "/api/player/v1/me",
    ):
        assert path in paths
    assert "bearerAuth" in generate()["components"]["securitySchemes"]


@pytest.mark.django_db
def test_schema_endpoint_and_docs_page(client):
    assert client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"cdn." not in docs.content  # served from our own static files


def test_committed_copy_is_current():
    """docs/openapi.yaml is what the code generates: run `make schema` after changing the API."""
    committed = yaml.safe_load(COMMITTED.read_text())
    assert committed == yaml.safe_load(OpenApiYamlRenderer().render(generate()))
