"""OpenAPI components shared by every API."""

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="stable, upper-case: compare this, not the message")
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class PamAutoSchema(AutoSchema):
    """Names nested serializers after their view (`LoginApi.InputSerializer` -> `LoginApiInput`),
    so the HackSoft-style nested Input/Output classes never collide in the schema."""

    def get_serializer_name(self, serializer: serializers.Serializer, direction) -> str:
        qualname = serializer.__class__.__qualname__
        if "." in qualname:
            return qualname.replace(".", "").removesuffix("Serializer")
        return super().get_serializer_name(serializer, direction)
