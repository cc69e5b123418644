"""Serializer fields shared by the apps' APIs."""

from rest_framework import serializers


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: no strings, booleans or numbers with a fraction (`100.0`). For money
    and counts that clients send as JSON numbers."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)
