"""Django's admin app with the back office's site as its default (`sites.py`): installed in place
of `django.contrib.admin`, so every app's `admin.site.register` lands on the back office's site."""

from django.contrib.admin.apps import AdminConfig


class BackOfficeAdminConfig(AdminConfig):
    default_site = "apps.backoffice.sites.BackOfficeSite"
