"""Player protection in the back office. Profiles are reference data, edited here. Limits and
exclusions are changed only through the services (a form calls `set_limit`, `start_time_out` or
`self_exclude` with the staff user and a required reason), so the cooling-off rules, the
never-shorten rule and the audit trail hold for staff exactly as for players. Behaviour rules
are saved through `services.save_rule` (a new version and a staff action each); their versions,
firings and alerts are read-only, and alerts are grouped into cases (opened from the alert list,
then assigned, commented, attached and resolved through `cases.py`, each a staff action; a case
exports its suspicious-activity report as CSV or JSON). The audit trails
(limit changes, staff actions) and the exclusions are read-only: nothing here lifts an exclusion
or rewrites history."""

from __future__ import annotations

import csv

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html

from apps.common.admin import (
    AuditedAdmin,
    LargeTableAdmin,
    ReadOnlyAdmin,
    ReadOnlyInline,
    ThroughServiceAdmin,
    staff_page,
)
from apps.common.errors import PamError
from apps.compliance import cases, selectors, services, trail_index
from apps.compliance.choices import CaseOutcome, ExclusionKind, RuleAction, SelfExclusionPeriod
from apps.compliance.models import (
    Alert,
    Case,
    CaseAttachment,
    CaseComment,
    Exclusion,
    IdentityMark,
    JurisdictionProfile,
    Limit,
    LimitChange,
    PlayerProtection,
    Rule,
    RuleFiring,
    RuleVersion,
    StaffAction,
)


@admin.register(JurisdictionProfile)
class JurisdictionProfileAdmin(AuditedAdmin):
    list_display = ("code", "name", "is_default", "deposit_limit_cooling_off", "other_limit_cooling_off",
                    "increase_needs_confirmation", "reality_check_minutes", "kyc_deposit_threshold",
                    "kyc_threshold_currency", "min_game_cycle_ms", "autoplay_allowed",
                    "session_info_in_play")  # fmt: skip

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # brands point at profiles; retire one by moving its brands


class LimitForm(forms.ModelForm):
    new_amount = forms.IntegerField(
        required=False, min_value=0, help_text="minor units (minutes for a session limit); empty removes the limit"
    )
    reason = forms.CharField(widget=forms.Textarea, help_text="kept in the audit trail with your name")

    class Meta:
        model = Limit
        fields = ("player", "kind", "period")


@admin.register(Limit)
class LimitAdmin(ThroughServiceAdmin):
    """A change here is `services.set_limit` by the staff user: decreases at once, increases and
    removals behind the cooling-off (and the player's confirmation where the profile says so)."""

    form = LimitForm
    list_display = ("player", "kind", "period", "amount", "has_pending", "pending_amount", "pending_effective_at",
                    "pending_needs_confirmation", "updated_at")  # fmt: skip
    list_filter = ("kind", "period", "has_pending")
    search_fields = ("=player__id", "player__user__username")
    list_select_related = ("player__user",)
    raw_id_fields = ("player",)

    def get_readonly_fields(self, request, obj=None):
        return ("player", "kind", "period", "amount", "pending_amount", "pending_effective_at") if obj else ()

    def get_fields(self, request, obj=None):
        if obj:
            return ("player", "kind", "period", "amount", "pending_amount", "pending_effective_at", "new_amount",
                    "reason")  # fmt: skip
        return ("player", "kind", "period", "new_amount", "reason")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # removing a limit is a change with a cooling-off, not a delete

    def call_service(self, request, obj, data, formsets):
        return services.set_limit(
            player=obj.player, kind=obj.kind, period=obj.period or None, amount=data["new_amount"],
            acting_user=request.user, reason=data["reason"],
        )  # fmt: skip


@admin.register(LimitChange)
class LimitChangeAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "player", "kind", "period", "status", "old_amount", "new_amount", "effective_at",
                    "by_player", "acting_user", "reason")  # fmt: skip
    list_filter = ("status", "kind", "by_player")
    search_fields = ("=player__id", "player__user__username")
    date_hierarchy = "created_at"


class ExclusionForm(forms.ModelForm):
    hours = forms.IntegerField(required=False, min_value=24, max_value=1008, help_text="time-out: 24 to 1008")
    period = forms.ChoiceField(required=False, choices=[("", "—"), *SelfExclusionPeriod.choices])
    reason = forms.CharField(widget=forms.Textarea, help_text="kept with the exclusion")

    class Meta:
        model = Exclusion
        fields = ("player", "kind")

    def clean(self):
        data = super().clean()
        if data.get("kind") == ExclusionKind.TIME_OUT and not data.get("hours"):
            self.add_error("hours", "A time-out needs its length in hours.")
        if data.get("kind") == ExclusionKind.SELF_EXCLUSION and not data.get("period"):
            self.add_error("period", "A self-exclusion needs its period.")
        return data


@admin.register(Exclusion)
class ExclusionAdmin(ThroughServiceAdmin):
    """Staff can start an exclusion for a player (through the service: at once, sessions ended);
    no one can change or delete one."""

    form = ExclusionForm
    list_display = ("player", "kind", "starts_at", "ends_at", "return_requested_at", "acting_user", "reason")
    list_filter = ("kind",)
    search_fields = ("=player__id", "player__user__username")
    raw_id_fields = ("player",)

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def call_service(self, request, obj, data, formsets):
        if obj.kind == ExclusionKind.TIME_OUT:
            return services.start_time_out(
                player=obj.player, hours=data["hours"], acting_user=request.user, reason=data["reason"]
            )
        return services.self_exclude(
            player=obj.player, period=data["period"], acting_user=request.user, reason=data["reason"]
        )


@admin.register(PlayerProtection)
class PlayerProtectionAdmin(ReadOnlyAdmin):
    list_display = ("player", "exclusion", "kyc_threshold_reached_at", "session_started_at", "reality_check_minutes",
                    "last_reality_check_at")  # fmt: skip
    search_fields = ("=player__id", "player__user__username")


class StaffActionCodeFilter(admin.SimpleListFilter):
    """By action code; the choices are read along the action's index, never with DISTINCT."""

    title = "action"
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return [(code, code) for code in trail_index.list_action_codes()]

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


class StaffActionActorFilter(admin.SimpleListFilter):
    """By staff member, or the system's records (no actor); the choices are the staff members
    found along the actor's index."""

    title = "actor"
    parameter_name = "actor"
    SYSTEM = "system"

    def lookups(self, request, model_admin):
        actors = [(str(pk), username) for pk, username in trail_index.list_actors()]
        return [(self.SYSTEM, "the system"), *actors]

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.SYSTEM:
            return queryset.filter(actor__isnull=True)
        if value and value.isdigit():
            return queryset.filter(actor_id=int(value))
        return queryset


@admin.register(StaffAction)
class StaffActionAdmin(LargeTableAdmin):
    """The staff-action trail (staff_audit.py), read-only: `manage.py staff_audit` verifies it.
    Newest first along the primary key; the filters read `staff_action_action_idx` and
    `staff_action_actor_idx`; a search is exact (a record's id, an object's history, a code)."""

    list_display = ("id", "created_at", "actor", "system_actor", "action", "target_type", "target_id", "reason")
    list_filter = (StaffActionCodeFilter, StaffActionActorFilter)
    search_fields = ("=id", "=target_type", "=target_id", "=action")
    search_help_text = "A record's id, an object as app_label.model:id (its history), or an action code, exactly."
    list_select_related = ("actor",)
    fields = ("created_at", "actor", "system_actor", "action", "target_type", "target_id", "before", "after", "reason",
              "previous_hash", "chain_hash")  # fmt: skip

    def search(self, term: str) -> Q | None:
        if term.isdigit():
            return Q(pk=int(term)) if int(term) < 2**63 else None
        target_type, colon, target_id = term.partition(":")
        if colon and "." in target_type and target_id and not target_type.startswith("admin."):
            return Q(target_type=target_type.strip().lower(), target_id=target_id.strip())
        return Q(action=term)


class RuleForm(forms.ModelForm):
    actions = forms.MultipleChoiceField(choices=RuleAction.choices, widget=forms.CheckboxSelectMultiple)
    reason = forms.CharField(widget=forms.Textarea, help_text="kept with the rule's new version and in the trail")

    class Meta:
        model = Rule
        fields = ("code", "type", "parameters", "severity", "brand", "jurisdiction", "actions", "enabled")


@admin.register(Rule)
class RuleAdmin(ThroughServiceAdmin):
    """A save here is `services.save_rule` by the staff user: a new version (when something
    changed) and a `rule.save` staff action; invalid parameters are refused with the reason. The
    code and type of a saved rule are fixed; rules are never deleted (disable them)."""

    form = RuleForm
    list_display = ("code", "type", "version", "enabled", "severity", "brand", "jurisdiction", "actions", "parameters",
                    "updated_at")  # fmt: skip
    list_filter = ("enabled", "type", "severity")
    search_fields = ("code",)

    def get_readonly_fields(self, request, obj=None):
        return ("code", "type", "version", "updated_at") if obj else ()

    def get_fields(self, request, obj=None):
        fields = ("code", "type", "parameters", "severity", "brand", "jurisdiction", "actions", "enabled", "reason")
        return (*fields, "version", "updated_at") if obj else fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # versions and alerts point at it: disable it instead

    def call_service(self, request, obj, data, formsets):
        return services.save_rule(
            code=obj.code, rule_type=obj.type, parameters=data["parameters"], severity=data["severity"],
            actions=list(data["actions"]), enabled=data["enabled"], brand=data["brand"],
            jurisdiction=data["jurisdiction"], acting_user=request.user, reason=data["reason"],
        )  # fmt: skip


@admin.register(RuleVersion)
class RuleVersionAdmin(ReadOnlyAdmin):
    list_display = ("rule", "version", "enabled", "type", "severity", "brand", "jurisdiction", "actions", "parameters",
                    "created_at", "created_by", "reason")  # fmt: skip
    list_filter = ("type", "enabled")
    search_fields = ("rule__code",)
    list_select_related = ("rule", "brand", "jurisdiction", "created_by")


@admin.register(RuleFiring)
class RuleFiringAdmin(ReadOnlyAdmin):
    # A game's firing (RTP drift) has no player: its subject names the game, currency and band.
    list_display = ("created_at", "rule_version", "player", "subject", "window_start", "value", "threshold",
                    "event_id", "actions")  # fmt: skip
    search_fields = ("=player__id", "player__user__username", "rule_version__rule__code", "subject")
    list_select_related = ("rule_version__rule", "player__user")
    date_hierarchy = "created_at"


@admin.register(IdentityMark)
class IdentityMarkAdmin(ReadOnlyAdmin):
    """The players seen with each instrument, device or network (keyed hashes only): searching a
    mark's value lists everyone who shares it."""

    list_display = ("kind", "value", "player", "first_seen", "last_seen", "last_event_id")
    list_filter = ("kind",)
    search_fields = ("=value", "=player__id", "player__user__username")
    list_select_related = ("player__user",)


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    """The alerts queue, read-only; new alerts also appear at once on the live feed. Staff who may
    open cases group selected alerts of one player into a new case (`cases.open_case`, which
    records the staff action itself). An alert about a game (RTP drift) has no player: "about"
    shows its game, currency and stake band, its detail the RTPs; it goes into no case."""

    list_display = ("created_at", "severity", "status", "rule_version", "about", "value", "threshold", "case")
    list_filter = ("status", "severity", ("case", admin.EmptyFieldListFilter))
    search_fields = ("=player__id", "player__user__username", "rule_version__rule__code")
    list_select_related = ("rule_version__rule", "player__user", "case")
    date_hierarchy = "created_at"
    fields = ("created_at", "severity", "status", "rule_version", "player", "value", "threshold", "detail",
              "event_ids", "firing", "case")  # fmt: skip
    actions = ("open_case",)
    actions_recorded_by_services = ("open_case",)

    def has_open_case_permission(self, request) -> bool:
        return request.user.has_perm("compliance.add_case")

    @admin.display(description="about")
    def about(self, alert: Alert) -> str:
        return str(alert.player) if alert.player_id else alert.detail.get("subject", "")

    @admin.action(description="Open a case with the selected alerts (one player)", permissions=["open_case"])
    def open_case(self, request, queryset):
        try:
            case = cases.open_case(alerts=list(queryset), acting_user=request.user)
        except PamError as refusal:
            self.message_user(request, f"{refusal.code}: {refusal.message}", messages.ERROR)
            return None
        self.message_user(request, f"Opened {case}.", messages.SUCCESS)
        return redirect(reverse("admin:compliance_case_change", args=[case.pk]))


class CaseAlertInline(ReadOnlyInline):
    model = Alert
    fields = ("created_at", "rule_version", "severity", "value", "threshold", "event_ids")
    show_change_link = True


class CaseCommentInline(ReadOnlyInline):
    """Comments are added through the case form (`cases.comment`) and never changed."""

    model = CaseComment
    fields = ("created_at", "author", "text")


class CaseAttachmentInline(ReadOnlyInline):
    """Files are added through the case form (`cases.attach`); each downloads through the admin."""

    model = CaseAttachment
    fields = ("created_at", "uploaded_by", "download", "content_type", "size", "sha256")

    @admin.display(description="file")
    def download(self, attachment: CaseAttachment) -> str:
        url = reverse("admin:compliance_case_attachment", args=[attachment.case_id, attachment.pk])
        return format_html('<a href="{}">{}</a>', url, attachment.name)


class CaseForm(forms.ModelForm):
    """The case's own fields are read-only; a save adds what these fields hold, each through its
    service: a comment, then a file."""

    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                              help_text="added to the case, kept with your name; never changed")  # fmt: skip
    attachment = forms.FileField(required=False, help_text=(
        f"PDF, PNG, JPEG, text or CSV, at most {cases.ATTACHMENT_MAX_BYTES // (1024 * 1024)} MiB"))  # fmt: skip

    class Meta:
        model = Case
        fields = ()


class CaseActionForm(ActionForm):
    outcome = forms.ChoiceField(required=False, choices=[("", "—"), *CaseOutcome.choices])
    note = forms.CharField(required=False, help_text="required to resolve: why this outcome")


@admin.register(Case)
class CaseAdmin(ThroughServiceAdmin):
    """Cases are opened from the alert list, never added or deleted here. The list's actions
    assign cases to the staff member and resolve them with an outcome and a note; the form adds
    comments and files; every change goes through `cases.py`, which records the staff action. The
    report links stream the suspicious-activity report (CSV, JSON)."""

    form = CaseForm
    action_form = CaseActionForm
    list_display = ("id", "created_at", "title", "player", "status", "assignee", "outcome", "updated_at")
    list_filter = ("status", "outcome")
    search_fields = ("=id", "=player__id", "player__user__username", "title")
    list_select_related = ("player__user", "assignee")
    date_hierarchy = "created_at"
    readonly_fields = ("title", "player", "status", "assignee", "opened_by", "outcome", "resolution_note",
                       "resolved_at", "period_start", "period_end", "created_at", "updated_at", "report")  # fmt: skip
    inlines = (CaseAlertInline, CaseCommentInline, CaseAttachmentInline)
    actions = ("assign_to_me", "resolve")
    actions_recorded_by_services = ("assign_to_me", "resolve")

    def get_fields(self, request, obj=None):
        return (*self.readonly_fields, "comment", "attachment")

    def has_add_permission(self, request) -> bool:
        return False  # a case is opened from alerts

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the trail and the report point at it

    @admin.display(description="suspicious-activity report")
    def report(self, case: Case) -> str:
        csv_url = reverse("admin:compliance_case_report", args=[case.pk, "csv"])
        json_url = reverse("admin:compliance_case_report", args=[case.pk, "json"])
        return format_html('<a href="{}">CSV</a> · <a href="{}">JSON</a>', csv_url, json_url)

    def construct_change_message(self, request, form, formsets, add=False):
        # The inlines are read-only and never saved: the history says only what the form changed.
        return super().construct_change_message(request, form, [], add)

    def call_service(self, request, obj, data, formsets):
        if data.get("comment", "").strip():
            cases.comment(case=obj, text=data["comment"], acting_user=request.user)
        if data.get("attachment"):
            cases.attach(case=obj, file=data["attachment"], acting_user=request.user)
        return obj

    @admin.action(description="Assign the selected cases to me", permissions=["change"])
    def assign_to_me(self, request, queryset) -> None:
        self.decide_each(request, queryset, lambda c: cases.assign(case=c, assignee=request.user,
                         acting_user=request.user), label=_case_label)  # fmt: skip

    @admin.action(description="Resolve the selected cases (outcome and note)", permissions=["change"])
    def resolve(self, request, queryset) -> None:
        outcome, note = request.POST.get("outcome", ""), request.POST.get("note", "")
        self.decide_each(request, queryset, lambda c: cases.resolve(case=c, outcome=outcome, note=note,
                         acting_user=request.user), label=_case_label)  # fmt: skip

    def get_urls(self):
        report = self.admin_site.admin_view(self.report_view)
        attachment = self.admin_site.admin_view(self.attachment_view)
        return [
            path("<int:case_id>/report.<str:fmt>", report, name="compliance_case_report"),
            path("<int:case_id>/attachment/<int:attachment_id>/", attachment, name="compliance_case_attachment"),
            *super().get_urls(),
        ]

    @staff_page("view")
    def report_view(self, request, case_id: int, fmt: str):
        """The case's report, streamed: the CSV rows and the JSON's transactions are written as the
        ledger is read."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if fmt not in ("csv", "json"):
            raise Http404
        try:
            if fmt == "json":
                pieces = selectors.case_report_json(case_id)
                response = StreamingHttpResponse(pieces, content_type="application/json")
            else:
                writer = csv.writer(_Echo())
                rows = selectors.case_report_rows(case_id)
                response = StreamingHttpResponse((writer.writerow(row) for row in rows), content_type="text/csv")
        except Case.DoesNotExist:
            raise Http404 from None
        response["Content-Disposition"] = f'attachment; filename="case-{case_id}-report.{fmt}"'
        return response

    @staff_page("view")
    def attachment_view(self, request, case_id: int, attachment_id: int):
        """A case's file, to staff who may read cases only (no public URL serves MEDIA_ROOT)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        attachment = CaseAttachment.objects.filter(case_id=case_id, pk=attachment_id).first()
        if attachment is None:
            raise Http404
        return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name,
                            content_type=attachment.content_type)  # fmt: skip


class _Echo:
    """A file-like object whose write returns what it is given: csv.writer then yields each row's
    text, which the streaming response sends as it goes."""

    def write(self, value: str) -> str:
        return value


def _case_label(case: Case) -> str:
    return f"case {case.pk}"
