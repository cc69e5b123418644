from django.contrib import admin

admin.site.site_header = "PAM back office"
admin.site.site_title = "PAM back office"
admin.site.index_title = "Operations"
