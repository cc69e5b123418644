from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group

from apps.accounts.forms import StaffLoginForm
from apps.common.admin import audited

admin.site.site_header = "PAM back office"
admin.site.site_title = "PAM back office"
admin.site.index_title = "Operations"
# The login throttle's refusal says when to try again (apps/accounts/throttling.py).
admin.site.login_form = StaffLoginForm

# The third-party admin records staff actions too: a group's permissions are staff privileges.
# This app is installed last, so it is registered.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)
    admin.site.register(Group, audited(GroupAdmin))
