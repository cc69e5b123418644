"""OpenAPI components shared by every API.

The schema says exactly what the server accepts and answers (a test fuzzes every operation
against it): the helpers here keep the declarations of shared rules in one place, derived from
the code that enforces them rather than restated.
"""

from __future__ import annotations

import sys
from functools import cache

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from apps.common.money import ISO_4217

CURRENCY_CODES = sorted(ISO_4217)
_COMPONENTS: dict[str, dict] = {}


def component(name: str, schema: dict) -> dict:
    """`schema` as the component `name`, and a reference to it for `extend_schema_field`.

    Written as it is: drf-spectacular's enum post-processing, which names enums after the field
    that holds them, only looks into properties, not into components referenced by them."""
    _COMPONENTS[name] = schema
    return {"$ref": f"#/components/schemas/{name}"}


@extend_schema_field(
    component(
        "CurrencyCode",
        {
            "type": "string",
            "enum": CURRENCY_CODES,
            "description": "an upper-case ISO 4217 code PAM knows (apps/common/money.py)",
        },
    )
)
class CurrencyCodeField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=CURRENCY_CODES, **kwargs)


def enum_field(name: str, values: list[str], description: str) -> type[serializers.ChoiceField]:
    """A choice field whose enum is the component `name` in the schema (drf-spectacular would name
    every enum after its field, and several APIs have a `status` of their own)."""

    @extend_schema_field(component(name, {"type": "string", "enum": values, "description": description}))
    class EnumField(serializers.ChoiceField):
        def __init__(self, **kwargs):
            super().__init__(choices=values, **kwargs)

    return EnumField


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="stable, upper-case: compare this, not the message")
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


def refusals(described: dict[int, str], serializer=ErrorSerializer) -> dict[int, OpenApiResponse]:
    """`{status: "CODE, CODE"}` as OpenAPI responses with the error body, plus the 406 DRF answers
    any request whose `Accept` the JSON renderer cannot satisfy."""
    return {
        status: OpenApiResponse(serializer, description=codes)
        for status, codes in sorted({**described, 406: "NOT_ACCEPTABLE"}.items())
    }


@cache
def printable_pattern(min_length: int, max_length: int) -> str:
    """A regular expression matching exactly the strings of `min_length` to `max_length`
    characters for which Python's `str.isprintable()` holds, what the server checks. Built from
    that same function, so the schema and the check cannot disagree; the range ends are
    themselves printable, so the class is written with the characters, in any regex dialect."""
    ranges, start = [], None
    for code in range(sys.maxunicode + 2):
        printable = code <= sys.maxunicode and chr(code).isprintable()
        if printable and start is None:
            start = code
        elif not printable and start is not None:
            ranges.append((start, code - 1))
            start = None

    def literal(code: int) -> str:
        char = chr(code)
        return "\\" + char if char in "\\]^-[" else char

    body = "".join(literal(a) if a == b else f"{literal(a)}-{literal(b)}" for a, b in ranges)
    return f"^[{body}]{{{min_length},{max_length}}}$"


class PamAutoSchema(AutoSchema):
    """Names nested serializers after their view (`LoginApi.InputSerializer` -> `LoginApiInput`),
    so the HackSoft-style nested Input/Output classes never collide in the schema."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        for name, definition in _COMPONENTS.items():
            registry.register_on_missing(
                ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=definition)
            )
        return super().get_operation(path, path_regex, path_prefix, method, registry)

    def _get_request_for_media_type(self, serializer, direction="request"):
        schema, required = super()._get_request_for_media_type(serializer, direction)
        # drf-spectacular marks a body required by its component's `required` list, which a
        # choice of shapes (oneOf) has none of; the server still refuses a request without one.
        if isinstance(serializer, PolymorphicProxySerializer):
            required = True
        return schema, required

    def get_serializer_name(self, serializer: serializers.Serializer, direction) -> str:
        qualname = serializer.__class__.__qualname__
        if "." in qualname:
            return qualname.replace(".", "").removesuffix("Serializer")
        return super().get_serializer_name(serializer, direction)


class SignedRequestSchema(PamAutoSchema):
    """An operation signed by its caller rather than logged in: `security_schemes` (name ->
    OpenAPI security scheme, the signature's headers) are all required together."""

    security_schemes: dict[str, dict] = {}

    def get_auth(self):
        for name, definition in self.security_schemes.items():
            self.registry.register_on_missing(
                ResolvedComponent(name=name, type=ResolvedComponent.SECURITY_SCHEMA, object=name, schema=definition)
            )
        return [{name: [] for name in self.security_schemes}]
