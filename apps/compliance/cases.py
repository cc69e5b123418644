"""Compliance cases: the writes (docs/rules.md, "Cases").

Staff group a player's alerts into a case, assign it, comment, attach files and resolve it with
an outcome. Each function here is one transaction that locks the case row first
(`locks.lock_case`: two staff changing one case are serialised, so nothing lands on a case after
it was resolved) and records its staff action last (`staff_audit.record_staff_action`: the trail's
head lock is the last lock of a transaction). A resolved case takes no more changes
(`CaseResolved`, code `CASE_RESOLVED`); a change that does not make sense is `InvalidCase`
(`INVALID_CASE`), and in both cases nothing is written.

Kept apart from `services.py` (player protection and the rules) because a case is a workflow of
its own that touches no player or money state; the SAR export that reads a case is in
`selectors.py`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.common import staff_trail
from apps.common.timestamps import iso_utc
from apps.compliance import errors, locks, staff_audit
from apps.compliance.choices import CaseOutcome, CaseStatus
from apps.compliance.models import Alert, Case, CaseAttachment, CaseComment

# What an attachment may be: documents and images staff collect as evidence. Anything else
# (executables, archives, HTML that a browser would run) is refused rather than stored.
ATTACHMENT_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "text/plain", "text/csv"})
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
TITLE_MAX = 200


def open_case(*, alerts: Iterable[Alert | int], acting_user: User, title: str = "") -> Case:
    """Open a case for the alerts (at least one, all of one player, none in a case yet), opened by
    `acting_user`, status `open`. Its period runs from the earliest alert's firing window start
    to now; a `case.open` staff action records the alerts. Raises InvalidCase; nothing is
    written then."""
    ids = _ids(alerts)
    now = timezone.now()
    with transaction.atomic():
        found = _free_alerts(ids)
        players = {alert.player_id for alert in found}
        if len(players) != 1 or None in players:  # a game's alert (RTP drift) is about no player
            raise errors.InvalidCase("A case is about one player: select alerts of one player.")
        start = min(alert.firing.window_start for alert in found)
        case = Case.objects.create(
            player_id=players.pop(), title=(title.strip() or _default_title(found))[:TITLE_MAX],
            opened_by=acting_user, period_start=start, period_end=max(now, start + dt.timedelta(seconds=1)),
            created_at=now, updated_at=now,
        )  # fmt: skip
        _link(ids, case)
        staff_audit.record_staff_action(
            actor=acting_user, action=staff_trail.CASE_OPEN, target=case,
            after={"player": case.player_id, "title": case.title, "alerts": ids,
                   "period_start": iso_utc(case.period_start), "period_end": iso_utc(case.period_end)},
        )  # fmt: skip
    return case


def add_alerts(*, case: Case, alerts: Iterable[Alert | int], acting_user: User) -> Case:
    """Add alerts of the case's player (none in a case yet) to an unresolved case; its period
    grows to cover them and up to now. A `case.add_alerts` staff action. Raises CaseResolved,
    InvalidCase; nothing is written then."""
    ids = _ids(alerts)
    now = timezone.now()
    with transaction.atomic():
        case = _lock_unresolved(case)
        found = _free_alerts(ids)
        if any(alert.player_id != case.player_id for alert in found):
            raise errors.InvalidCase("These alerts are about another player than the case.")
        before = {"period_start": iso_utc(case.period_start), "period_end": iso_utc(case.period_end)}
        case.period_start = min(case.period_start, *(alert.firing.window_start for alert in found))
        case.period_end = max(case.period_end, now)
        case.updated_at = now
        case.save(update_fields=["period_start", "period_end", "updated_at"])
        _link(ids, case)
        staff_audit.record_staff_action(
            actor=acting_user, action=staff_trail.CASE_ADD_ALERTS, target=case, before=before,
            after={"alerts": ids, "period_start": iso_utc(case.period_start), "period_end": iso_utc(case.period_end)},
        )  # fmt: skip
    return case


def assign(*, case: Case, assignee: User, acting_user: User) -> Case:
    """Assign an unresolved case to `assignee`, an active staff member who may work on cases
    (`compliance.change_case`); an open case moves to `investigating`. Assigning it to its
    assignee again writes nothing. A `case.assign` staff action. Raises CaseResolved,
    InvalidCase."""
    if not (assignee.is_active and assignee.is_staff and assignee.has_perm("compliance.change_case")):
        raise errors.InvalidCase(f"{assignee.username} may not work on cases.")
    with transaction.atomic():
        case = _lock_unresolved(case)
        if case.assignee_id == assignee.pk:
            return case
        before = {"assignee": case.assignee_id, "status": case.status}
        case.assignee = assignee
        case.status = CaseStatus.INVESTIGATING
        case.updated_at = timezone.now()
        case.save(update_fields=["assignee", "status", "updated_at"])
        after = {"assignee": assignee.pk, "status": case.status}
        staff_audit.record_staff_action(
            actor=acting_user, action=staff_trail.CASE_ASSIGN, target=case, before=before, after=after
        )
    return case


def comment(*, case: Case, text: str, acting_user: User) -> CaseComment:
    """Add `acting_user`'s comment (not blank) to an unresolved case; comments are never changed
    or removed. A `case.comment` staff action with the text. Raises CaseResolved, InvalidCase."""
    text = text.strip()
    if not text:
        raise errors.InvalidCase("A comment says something.")
    with transaction.atomic():
        case = _lock_unresolved(case)
        now = timezone.now()
        note = CaseComment.objects.create(case=case, author=acting_user, text=text, created_at=now)
        _touch(case, now)
        staff_audit.record_staff_action(
            actor=acting_user, action=staff_trail.CASE_COMMENT, target=case, after={"comment": note.pk, "text": text}
        )
    return note


def attach(*, case: Case, file: UploadedFile, acting_user: User) -> CaseAttachment:
    """Store `file` through Django's storage and attach it to an unresolved case: a declared type
    of ATTACHMENT_TYPES, 1 byte to ATTACHMENT_MAX_BYTES. A `case.attach` staff action with the
    name, type, size and SHA-256. Raises CaseResolved, InvalidCase; nothing is stored then.

    The file is written to the storage inside the transaction; if the transaction then fails,
    the file stays on the storage without a row (an orphan to sweep), never a row without file.
    """
    content_type = (file.content_type or "").split(";")[0].strip().lower()
    if content_type not in ATTACHMENT_TYPES:
        raise errors.InvalidCase(f"Files of type {content_type or 'unknown'} are not accepted.")
    if not 0 < file.size <= ATTACHMENT_MAX_BYTES:
        raise errors.InvalidCase(f"A file is 1 byte to {ATTACHMENT_MAX_BYTES // (1024 * 1024)} MiB.")
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    name = (file.name or "attachment").rsplit("/", 1)[-1][:200]
    with transaction.atomic():
        case = _lock_unresolved(case)
        now = timezone.now()
        attachment = CaseAttachment(
            case=case, name=name, content_type=content_type, size=file.size, sha256=digest.hexdigest(),
            uploaded_by=acting_user, created_at=now,
        )  # fmt: skip
        attachment.file.save(name, file, save=False)
        attachment.save(force_insert=True)
        _touch(case, now)
        staff_audit.record_staff_action(
            actor=acting_user, action=staff_trail.CASE_ATTACH, target=case,
            after={"attachment": attachment.pk, "name": name, "content_type": content_type, "size": file.size,
                   "sha256": attachment.sha256},
        )  # fmt: skip
    return attachment


def resolve(*, case: Case, outcome: str, note: str, acting_user: User) -> Case:
    """Resolve the case with an outcome (CaseOutcome) and a note saying why; it takes no more
    changes after. A `case.resolve` staff action. Raises CaseResolved, InvalidCase."""
    note = note.strip()
    if outcome not in CaseOutcome.values:
        raise errors.InvalidCase(f"The outcome is one of {', '.join(CaseOutcome.values)}.")
    if not note:
        raise errors.InvalidCase("A resolution says why (note).")
    with transaction.atomic():
        case = _lock_unresolved(case)
        before = {"status": case.status}
        case.status, case.outcome, case.resolution_note = CaseStatus.RESOLVED, outcome, note
        case.resolved_at = case.updated_at = timezone.now()
        case.save(update_fields=["status", "outcome", "resolution_note", "resolved_at", "updated_at"])
        staff_audit.record_staff_action(
            actor=acting_user, action=staff_trail.CASE_RESOLVE, target=case, before=before,
            after={"status": case.status, "outcome": outcome}, reason=note,
        )  # fmt: skip
    return case


def _ids(alerts: Iterable[Alert | int]) -> list[int]:
    ids = sorted({alert.pk if isinstance(alert, Alert) else int(alert) for alert in alerts})
    if not ids:
        raise errors.InvalidCase("Select at least one alert.")
    return ids


def _free_alerts(ids: list[int]) -> list[Alert]:
    """The alerts `ids`, each existing and in no case yet (checked again when linked)."""
    found = list(Alert.objects.select_related("firing", "rule_version__rule").filter(pk__in=ids))
    if len(found) != len(ids):
        raise errors.InvalidCase("Some of these alerts do not exist.")
    taken = sorted(alert.pk for alert in found if alert.case_id is not None)
    if taken:
        raise errors.InvalidCase(f"Alerts already in a case: {', '.join(map(str, taken))}.")
    return found


def _link(ids: list[int], case: Case) -> None:
    """Put the alerts in the case. The UPDATE's condition is re-checked under each row's lock, so
    of two cases taking one alert at once, the second finds it taken and rolls back."""
    if Alert.objects.filter(pk__in=ids, case__isnull=True).update(case=case) != len(ids):
        raise errors.InvalidCase("Some of these alerts were just put in another case.")


def _lock_unresolved(case: Case) -> Case:
    locked = locks.lock_case(case.pk)
    if locked.status == CaseStatus.RESOLVED:
        raise errors.CaseResolved()
    return locked


def _touch(case: Case, now: dt.datetime) -> None:
    case.updated_at = now
    case.save(update_fields=["updated_at"])


def _default_title(alerts: list[Alert]) -> str:
    codes = sorted({alert.rule_version.rule.code for alert in alerts})
    return f"Player {alerts[0].player_id}: {', '.join(codes)}"
