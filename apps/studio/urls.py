"""The studio's pages and its players' API, served under /studio/ (docs/studio.md)."""

from __future__ import annotations

app_name = "studio"

urlpatterns: list = []
