from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group

from apps.common.admin import audited

admin.site.site_header = "PAM back office"
admin.site.site_title = "PAM back office"
admin.site.index_title = "Operations"

# The third-party admins record staff actions too: a group's permissions are staff privileges, and
# deleting an access attempt unlocks a login. This app is installed last, so they are registered.
for model, admin_class in (
    (Group, GroupAdmin),
    (AccessAttempt, AccessAttemptAdmin),
    (AccessLog, AccessLogAdmin),
    (AccessFailureLog, AccessFailureLogAdmin),
):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
        admin.site.register(model, audited(admin_class))
