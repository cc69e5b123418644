"""The OpenAPI schema is valid OpenAPI 3, covers the API, and docs/openapi.yaml is its current copy."""

import re
import sys

import pytest
import yaml
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiYamlRenderer
from drf_spectacular.validation import validate_schema

from apps.common.money import ISO_4217, MAX_AMOUNT
from apps.compliance import services as compliance_services
from apps.wallet.api import parsing
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


# --- the schema says exactly what the server accepts ---------------------------------------------


def _body_schema(schema: dict, path: str, method: str = "post") -> dict:
    body = schema["paths"][path][method]["requestBody"]
    assert body["required"] is True
    return _resolve(schema, body["content"]["application/json"]["schema"])


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def test_wallet_operations_require_every_field_with_the_amounts_the_server_accepts():
    schema = generate()
    round_fields = {"player_id", "currency", "transaction_id", "round_id", "game_id"}
    expected = {
        "authenticate": {"token"},
        "balance": {"player_id", "currency"},
        "bet": round_fields | {"amount"},
        "win": round_fields | {"amount"},
        "rollback": round_fields | {"rolled_back_transaction_id"},
    }
    for operation, fields in expected.items():
        body = _body_schema(schema, f"/api/wallet/v1/{operation}")
        assert set(body["required"]) == set(body["properties"]) == fields, operation
    bet = _body_schema(schema, "/api/wallet/v1/bet")["properties"]["amount"]
    win = _body_schema(schema, "/api/wallet/v1/win")["properties"]["amount"]
    assert (bet["minimum"], bet["maximum"]) == (1, MAX_AMOUNT)
    assert (win["minimum"], win["maximum"]) == (0, MAX_AMOUNT)


def test_currency_is_the_enum_of_the_codes_pam_knows():
    schema = generate()
    assert schema["components"]["schemas"]["CurrencyCode"]["enum"] == sorted(ISO_4217)
    for path in ("/api/wallet/v1/bet", "/api/wallet/v1/balance", "/api/player/v1/auth/register"):
        currency = _body_schema(schema, path)["properties"]["currency"]
        assert currency == {"$ref": "#/components/schemas/CurrencyCode"}, path


def test_external_ids_are_exactly_the_strings_the_server_takes():
    external_id = generate()["components"]["schemas"]["ExternalId"]
    pattern = re.compile(external_id["pattern"])
    for text in ("tx-1", "é" * 100, " ", "日本"):
        assert pattern.fullmatch(text)
        assert parsing._identifier(text) == text
    for text in ("", "a" * 101, "tab\there", "\u2028", "\ud800", "\x7f"):
        assert not pattern.fullmatch(text)
        with pytest.raises(ValueError, match="printable"):
            parsing._identifier(text)
    assert all(bool(pattern.fullmatch(chr(code))) == chr(code).isprintable() for code in range(sys.maxunicode + 1))


def test_wallet_operations_declare_the_signature_as_security():
    schema = generate()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["providerCode"] == {"type": "apiKey", "in": "header", "name": "X-Provider", **_described(schemes)}
    assert (schemes["providerSignature"]["in"], schemes["providerSignature"]["name"]) == ("header", "X-Signature")
    for operation in ("authenticate", "balance", "bet", "win", "rollback"):
        post = schema["paths"][f"/api/wallet/v1/{operation}"]["post"]
        assert post["security"] == [{"providerCode": [], "providerSignature": []}]
        assert {"200", "400", "401", "406", "413"} <= set(post["responses"])
        assert not post.get("parameters")


def _described(schemes: dict) -> dict:
    return {"description": schemes["providerCode"]["description"]}


def test_wallet_events_since_version_is_never_negative():
    (parameter,) = generate()["paths"]["/api/player/v1/wallet/events"]["get"]["parameters"]
    assert parameter["name"] == "since_version"
    assert parameter["required"] is True
    assert (parameter["schema"]["minimum"], parameter["schema"]["maximum"]) == (0, 2**63 - 1)


def test_a_limit_has_a_period_exactly_when_it_is_a_money_limit():
    schema = generate()
    body = _body_schema(schema, "/api/player/v1/limits", "put")
    money, session = (_resolve(schema, shape) for shape in body["oneOf"])
    assert _resolve(schema, money["properties"]["kind"])["enum"] == ["deposit", "loss", "wager"]
    assert _resolve(schema, money["properties"]["period"])["enum"] == ["24h", "7d", "30d"]
    assert not _resolve(schema, money["properties"]["period"]).get("nullable")
    assert (money["properties"]["amount"]["minimum"], money["properties"]["amount"]["maximum"]) == (0, MAX_AMOUNT)
    assert _resolve(schema, session["properties"]["kind"])["enum"] == ["session"]
    assert _resolve(schema, session["properties"]["period"])["enum"] == [None]
    assert (session["properties"]["amount"]["minimum"], session["properties"]["amount"]["maximum"]) == (1, 24 * 60)
    for shape in (money, session):
        assert set(shape["required"]) == {"kind", "period", "amount"}


def test_registration_declares_an_unknown_brand_and_rule_refusals():
    paths = generate()["paths"]["/api/player/v1/auth/register"]
    assert {"200", "400", "404", "406"} == set(paths["get"]["responses"])
    assert {"201", "400", "404", "406", "409", "415", "422", "429"} == set(paths["post"]["responses"])


def test_every_refusal_has_the_error_body():
    schema = generate()
    for path, methods in schema["paths"].items():
        if not path.startswith("/api/") or path == "/api/schema/":
            continue
        for operation in methods.values():
            for status, response in operation["responses"].items():
                if int(status) < 400:
                    continue
                body = _resolve(schema, response["content"]["application/json"]["schema"])
                error = _resolve(schema, body["properties"]["error"])
                # ErrorDetail itself, or one that adds fields to it (a refused login's retry_after).
                assert error["properties"]["code"]["type"] == "string", (path, status)
                assert {"code", "message"} <= set(error["required"]), (path, status)
                assert "error" in body["required"]


def test_one_largest_amount():
    """The wallet, the limits and registration's deposit limits share apps.common.money.MAX_AMOUNT."""
    assert compliance_services.MAX_MONEY_LIMIT is MAX_AMOUNT
    register = _body_schema(generate(), "/api/player/v1/auth/register")
    limit = register["properties"]["deposit_limits"]["items"]
    assert _resolve(generate(), limit)["properties"]["amount"]["maximum"] == MAX_AMOUNT
