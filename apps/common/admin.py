"""Admin pieces shared by the apps' back-office views (nothing is registered here).

Every ModelAdmin of the back office records what staff do in the staff-action trail (ARCHITECTURE.md,
invariant 5): the apps' admins subclass `AuditedAdmin` or `ReadOnlyAdmin`, and
apps/backoffice/admin.py wraps the third-party ones with `audited()`; a test checks every
registered admin. The records go through `staff_trail.record_staff_action`, whose recorder the
trail's app (compliance) registers at start-up: this shared kernel imports no app.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from functools import cached_property

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.core.paginator import InvalidPage, Paginator
from django.db import router, transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponseRedirect

from apps.common import staff_trail
from apps.common.errors import PamError


class StaffAuditMixin:
    """Records each admin add, change and delete (one object or a bulk delete) and each admin
    action in the staff-action trail, in the transaction of the change, with the values of the
    fields that changed.

    The values before a change are read before the form touches the object: in `get_object` (the
    change form, the delete page, the password form) or, for a list_editable save, from the
    database in `save_model`. The values after are read back from the database in `log_addition`
    / `log_change`, which Django calls once the object and its many-to-many are saved, so the
    trail has one record per admin history entry.
    """

    # False where the form calls a service that records the staff action itself, with the
    # reason the form asked for (`ThroughServiceAdmin`): never recorded twice.
    records_saves = True
    # Actions that call a service recording the staff action itself: they run as they are, since
    # such a service may open a durable transaction that no wrapper's transaction may hold.
    actions_recorded_by_services: tuple[str, ...] = ()

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and request.method == "POST":
            obj._staff_audit_before = staff_trail.snapshot(obj)
        return obj

    def save_model(self, request, obj, form, change) -> None:
        # A form that asks why (a `reason` field, e.g. the player's status) gives its record one.
        obj._staff_audit_reason = form.cleaned_data.get("reason", "") if form is not None else ""
        if change and self.records_saves and not hasattr(obj, "_staff_audit_before"):
            stored = type(obj)._base_manager.filter(pk=obj.pk).first()
            obj._staff_audit_before = staff_trail.snapshot(stored) if stored is not None else {}
        super().save_model(request, obj, form, change)

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        if self.records_saves:
            self._record(request, staff_trail.ADMIN_ADD, staff_trail.target_of(obj), {}, self._stored(obj))
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        if self.records_saves:
            # Without a captured before (a custom view that saved on its own), the whole row after.
            before = getattr(obj, "_staff_audit_before", {})
            changed = staff_trail.changes(before, self._stored(obj))
            reason = getattr(obj, "_staff_audit_reason", "")
            self._record(request, staff_trail.ADMIN_CHANGE, staff_trail.target_of(obj), *changed, reason=reason)
        return entry

    def delete_model(self, request, obj) -> None:
        target, before = staff_trail.target_of(obj), staff_trail.snapshot(obj)  # the pk is gone after
        super().delete_model(request, obj)
        self._record(request, staff_trail.ADMIN_DELETE, target, before, {})

    def delete_queryset(self, request, queryset) -> None:
        # `delete_selected` calls this outside any transaction: the rows and their records go together.
        with transaction.atomic(using=router.db_for_write(self.model)):
            doomed = [(staff_trail.target_of(obj), staff_trail.snapshot(obj)) for obj in queryset.all()]
            super().delete_queryset(request, queryset)
            for target, before in doomed:
                self._record(request, staff_trail.ADMIN_DELETE, target, before, {})

    def get_actions(self, request):
        actions = super().get_actions(request)
        # delete_selected deletes through delete_queryset, which records each object.
        unwrapped = {"delete_selected", *self.actions_recorded_by_services}
        return {
            name: (func if name in unwrapped else self._recorded_action(func, name), name, description)
            for name, (func, _, description) in actions.items()
        }

    def _recorded_action(self, func, name: str):
        """`func` in one transaction with a record per selected object (what changed on it)."""

        @functools.wraps(func)
        def run(modeladmin, request, queryset):
            model = modeladmin.model
            with transaction.atomic(using=router.db_for_write(model)):
                before = {obj.pk: staff_trail.snapshot(obj) for obj in queryset.all()}
                response = func(modeladmin, request, queryset)
                after = {obj.pk: staff_trail.snapshot(obj) for obj in model._base_manager.filter(pk__in=list(before))}
                for pk, values in before.items():
                    changed = staff_trail.changes(values, after.get(pk, {}))
                    target = (model._meta.label_lower, str(pk))
                    modeladmin._record(request, staff_trail.admin_action(name), target, *changed)
            return response

        return run

    def _stored(self, obj) -> dict:
        return staff_trail.snapshot(type(obj)._base_manager.get(pk=obj.pk))

    def _record(
        self, request, action: str, target: tuple[str, str], before: dict, after: dict, reason: str = ""
    ) -> None:
        staff_trail.record_staff_action(
            actor=request.user, action=action, target=target, before=before, after=after, reason=reason
        )


class AuditedAdmin(StaffAuditMixin, admin.ModelAdmin):
    """The base of every ModelAdmin of the apps: staff actions are recorded (StaffAuditMixin)."""

    def decide_each(self, request, rows, decide: Callable, label: Callable[[object], str]) -> None:
        """An admin action that calls a service on each selected row (`decide(row)`, which returns
        the row as changed): one message per row, its new status or the service's refusal (a
        `PamError`'s code and message), and a refusal of one row does not stop the others."""
        for row in rows:
            try:
                decided = decide(row)
            except PamError as refusal:
                self.message_user(request, f"{label(row)}: {refusal.code}: {refusal.message}", messages.ERROR)
                continue
            self.message_user(request, f"{label(row)}: {decided.status}", messages.SUCCESS)


class ThroughServiceAdmin(AuditedAdmin):
    """Saves by calling a service: `call_service(request, obj, data, formsets)` returns the saved
    row (`data`: the form's cleaned data; `formsets`: the inlines' formsets, whose rows the service
    writes too). A refusal (`PamError`) is shown on the form's page again, nothing is written and
    nothing is logged as added or changed. The service records the staff action (`limit.set`,
    `rule.save`, `bonus.campaign_save` …) with the form's reason, so the admin does not record the
    save again. Called from `save_related`, where the inlines' rows are known; the admin's own
    writes of the object and its inlines are skipped."""

    records_saves = False

    def call_service(self, request, obj, data, formsets):
        raise NotImplementedError

    def save_form(self, request, form, change):
        return form.save(commit=False)

    def save_model(self, request, obj, form, change) -> None:
        pass  # saved by the service in save_related, with the inlines' rows

    def save_related(self, request, form, formsets, change) -> None:
        for formset in formsets:  # what the admin's change message reads, normally set by formset.save()
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        obj = form.instance
        try:
            saved = self.call_service(request, obj, form.cleaned_data, formsets)
        except PamError as refusal:
            obj._refusal = refusal.message
            return
        obj.pk = saved.pk
        obj.refresh_from_db()

    def log_addition(self, request, obj, message):
        return None if hasattr(obj, "_refusal") else super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        return None if hasattr(obj, "_refusal") else super().log_change(request, obj, message)

    def response_add(self, request, obj, post_url_continue=None):
        return self._refused(request, obj) or super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        return self._refused(request, obj) or super().response_change(request, obj)

    def _refused(self, request, obj):
        if not hasattr(obj, "_refusal"):
            return None
        messages.error(request, obj._refusal)
        return HttpResponseRedirect(request.get_full_path())


def audited(admin_class: type[admin.ModelAdmin]) -> type[admin.ModelAdmin]:
    """A third-party ModelAdmin class that also records staff actions."""
    return type(f"Audited{admin_class.__name__}", (StaffAuditMixin, admin_class), {"__module__": __name__})


class ReadOnlyAdmin(AuditedAdmin):
    """For records that are never added, changed or deleted in the back office: the ledger,
    audit trails, exclusions. A correction goes through the owning app's service."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows shown beside their parent and never added, changed or deleted there (a transaction's
    entries, a case's alerts and comments). Subclasses set `model` and `fields`; every field is
    read-only."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# A page's permission named relative to its ModelAdmin: the admin's own `has_<it>_permission`,
# so a report beside a list opens for exactly who may open the list.
MODEL_ADMIN_PERMISSIONS = ("view", "add", "change", "delete")


def may_open(request, permission: str, model_admin: admin.ModelAdmin | None = None) -> bool:
    """Whether `request.user` may open a page declared with `staff_page(permission)`: a Django
    permission's full name (`"games.view_live_rtp"`), or one of `MODEL_ADMIN_PERMISSIONS` asked of
    `model_admin`. The page itself and the permission matrix (docs/permissions.md) both ask here,
    so the table cannot say what the page does not do."""
    if permission in MODEL_ADMIN_PERMISSIONS:
        if model_admin is None:
            raise ImproperlyConfigured(f"{permission!r} names a ModelAdmin's permission: only its methods may use it")
        return bool(getattr(model_admin, f"has_{permission}_permission")(request))
    return bool(request.user.has_perm(permission))


def staff_page(permission: str) -> Callable:
    """Declares and enforces what a back-office page beyond a ModelAdmin's own pages needs (a
    view in a ModelAdmin's or the site's `get_urls`): PermissionDenied for anyone else.

    `permission` is a full permission name, or on a ModelAdmin's method one of
    `MODEL_ADMIN_PERMISSIONS` (`may_open`). The declaration is read back from the view (its
    `required_permission`, which `admin_view` keeps) by apps/backoffice/permission_matrix.py:
    every custom URL of the back office must have one, or its test fails."""
    if (
        not isinstance(permission, str)
        or not permission
        or (permission not in MODEL_ADMIN_PERMISSIONS and "." not in permission)
    ):
        raise ImproperlyConfigured(f"staff_page needs 'app_label.codename' or one of {MODEL_ADMIN_PERMISSIONS}")

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            # A ModelAdmin's method gets (self, request, …), a site's view (request, …).
            request, owner = (args[0], None) if isinstance(args[0], HttpRequest) else (args[1], args[0])
            if not may_open(request, permission, owner):
                raise PermissionDenied
            return view(*args, **kwargs)

        guarded.required_permission = permission
        return guarded

    return decorate


# --- lists of large tables (the ledger, the staff trail) ---------------------------------------------


class LookAheadPaginator(Paginator):
    """Pages of a table too large to count: the page asked for is read with one row more, which
    says whether another page follows, and `count` is what is known from that read (the rows
    before the page, the page's and the one after), never a COUNT(*) of the filtered set.

    Pages are read with OFFSET along the list's index, so a page's cost grows with its number,
    not with the table: pages past `max_pages` are refused (narrow the list with a filter or a
    search instead)."""

    max_pages = 1000

    def __init__(self, object_list, per_page, *, page_number: int):
        super().__init__(object_list, per_page)
        self.page_number = page_number

    @cached_property
    def _window(self) -> list:
        if not 1 <= self.page_number <= self.max_pages:
            return []
        start = (self.page_number - 1) * self.per_page
        return list(self.object_list[start : start + self.per_page + 1])

    @cached_property
    def count(self) -> int:
        if not self._window:
            return 0  # an empty list, or a page past the end or out of range: page() refuses it
        return (self.page_number - 1) * self.per_page + len(self._window)

    @property
    def has_more(self) -> bool:
        """Whether at least one row follows the page read."""
        return len(self._window) > self.per_page

    def page(self, number):
        number = self.validate_number(number)
        if number != self.page_number:
            return super().page(number)
        return self._get_page(self._window[: self.per_page], number, self)


class LargeTableChangeList(ChangeList):
    """A change list that reads one page and nothing else: no count of the filtered set or of the
    table, no "show all", and only the admin's own ordering (which an index serves), whatever
    the query string asks."""

    def get_ordering(self, request, queryset):
        return self._get_deterministic_ordering(list(self.model_admin.get_ordering(request)))

    def get_results(self, request):
        paginator = self.model_admin.get_paginator(request, self.queryset, self.list_per_page)
        try:
            page = paginator.page(self.page_num)
        except InvalidPage:
            raise IncorrectLookupParameters from None
        self.result_count = paginator.count
        self.show_full_result_count = False
        self.show_admin_actions = True
        self.full_result_count = None
        self.result_list = page.object_list
        self.can_show_all = False
        self.multi_page = paginator.num_pages > 1
        self.paginator = paginator
        # What the page's footer says instead of a total (templates/admin/large_table_change_list.html).
        self.first_row, self.last_row = page.start_index(), page.end_index()
        self.page_range = paginator.get_elided_page_range(self.page_num) if self.multi_page else []


class LargeTableAdmin(ReadOnlyAdmin):
    """The read-only list of a table that grows without end (millions of ledger rows, the staff
    trail): every query of its change list is a walk along an index that stops after one page.

    - `ordering` must be served by an index (the primary key by default) and is the only order:
      the columns do not sort;
    - the paginator never counts (`LookAheadPaginator`), there is no "show all" and no facets;
    - each `list_filter` must be an equality on the leading column of an index that ends with the
      ordering's column, and its choices must not be read with a scan of the table (no
      `AllValuesFieldListFilter` or `RelatedOnlyFieldListFilter`);
    - search is exact: `search(term)` gives the Q of the rows a term names, each part of it an
      index look-up, or None when the term names nothing (`search_fields` only shows the box).

    `docs/backoffice.md` ("Large tables in the admin") says why; the admin scale test checks the
    plans against a million ledger rows."""

    ordering = ("-id",)
    sortable_by = ()
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_max_show_all = 0
    change_list_template = "admin/large_table_change_list.html"

    def get_changelist(self, request, **kwargs):
        return LargeTableChangeList

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        try:
            page_number = int(request.GET.get("p", 1))
        except ValueError:
            page_number = 1  # what the change list itself makes of it
        return LookAheadPaginator(queryset, per_page, page_number=page_number)

    def search(self, term: str) -> Q | None:
        raise NotImplementedError

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        found = self.search(term)
        return (queryset.filter(found) if found is not None else queryset.none()), False
