"""A player's standing and KYC pages: lock, freeze or re-open one account with a reason; KYC
documents stored through Django's storage with their type sniffed from their bytes and their size
limited, streamed only to staff who may view them (as attachments, nosniff); a KYC decision on
documents. Each change is a staff action, and the trail verifies."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from apps.accounts import services as accounts
from apps.accounts.choices import StaffRole
from apps.accounts.models import KycDocument, Player
from apps.accounts.tests.factories import make_player, make_staff
from apps.compliance import audit as staff_audit
from apps.compliance.models import StaffAction

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64
HTML = b"<!doctype html><script>alert(document.cookie)</script>"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def session(role: StaffRole) -> Client:
    client = Client()
    client.user = make_staff(role)
    client.force_login(client.user)
    return client


def kyc_url(player) -> str:
    return f"/backoffice/players/{player.pk}/kyc/"


def upload(client, player, content: bytes, name: str, declared: str, kind: str = "passport"):
    return client.post(kyc_url(player), {
        "upload-kind": kind, "upload-document": SimpleUploadedFile(name, content, content_type=declared),
    })  # fmt: skip


def status_of(player) -> tuple[str, str]:
    row = Player.objects.get(pk=player.pk)
    return row.status, row.kyc_status


def stored_files(media) -> list:
    return [path for path in media.rglob("*") if path.is_file()]


def assert_trail_clean() -> None:
    assert staff_audit.run_audit() == {name: [] for name in staff_audit.CHECKS}


# --- KYC documents -------------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "sniffed"), [(PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg")])
def test_compliance_uploads_a_document_typed_by_its_bytes_and_only_permitted_staff_download_it(media, content, sniffed):
    player, officer = make_player(), session(StaffRole.COMPLIANCE)

    # The name and the browser's claim say otherwise: the bytes decide.
    response = upload(officer, player, content, "scan.txt", "text/plain")

    assert response.status_code == 302
    document = KycDocument.objects.get()
    assert (document.content_type, document.size, document.sha256, document.uploaded_by, document.original_name) == (
        sniffed, len(content), hashlib.sha256(content).hexdigest(), officer.user, "scan.txt",
    )  # fmt: skip
    (path,) = stored_files(media)
    assert path.parent.parent.name == "kyc"
    assert "scan" not in path.name
    assert path.read_bytes() == content
    record = StaffAction.objects.get(action="kyc.document_upload")
    assert (record.actor, record.target_id, record.after["sha256"]) == (officer.user, str(document.pk), document.sha256)

    url = f"/backoffice/players/{player.pk}/kyc/documents/{document.pk}/"
    served = officer.get(url)
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == content
    assert served["Content-Type"] == sniffed
    assert served["Content-Disposition"].startswith("attachment;")
    assert served["X-Content-Type-Options"] == "nosniff"
    assert session(StaffRole.ADMIN).get(url).status_code == 200
    for role in (StaffRole.SUPPORT, StaffRole.FINANCE):
        assert session(role).get(url).status_code == 403, role
    assert Client().get(url).status_code == 302  # to the login page
    assert officer.get(f"/backoffice/players/{make_player().pk}/kyc/documents/{document.pk}/").status_code == 404
    assert_trail_clean()


@pytest.mark.parametrize(
    ("content", "name", "declared"),
    [(EXE, "passport.pdf", "application/pdf"), (HTML, "selfie.png", "image/png"), (HTML, "id.jpg", "image/jpeg"),
     (b"", "empty.pdf", "application/pdf"), (b"%PD", "short.pdf", "application/pdf")],
)  # fmt: skip
def test_a_renamed_program_or_page_is_refused_and_nothing_is_stored(media, content, name, declared):
    player, officer = make_player(), session(StaffRole.COMPLIANCE)

    response = upload(officer, player, content, name, declared)

    assert response.status_code == 200
    assert b"UNSUPPORTED_FILE_TYPE" in response.content or b"submitted file is empty" in response.content
    assert not KycDocument.objects.exists()
    assert stored_files(media) == []
    assert not StaffAction.objects.exists()


def test_an_oversize_document_is_refused(media, settings):
    settings.KYC_DOCUMENT_MAX_BYTES = 1_000
    player, officer = make_player(), session(StaffRole.COMPLIANCE)

    assert b"FILE_TOO_LARGE" in upload(officer, player, PDF + b"0" * 1_000, "big.pdf", "application/pdf").content
    assert upload(officer, player, PDF + b"0" * (1_000 - len(PDF)), "ok.pdf", "application/pdf").status_code == 302
    assert KycDocument.objects.get().size == 1_000
    assert len(stored_files(media)) == 1


def test_an_upload_far_over_the_limit_is_refused_on_its_declared_length(media, settings):
    settings.KYC_DOCUMENT_MAX_BYTES = 1_000
    player, officer = make_player(), session(StaffRole.COMPLIANCE)

    response = upload(officer, player, PDF + b"0" * 100_000, "huge.pdf", "application/pdf")

    assert response.status_code == 200
    assert b"FILE_TOO_LARGE" in response.content
    assert stored_files(media) == []


def test_the_service_refuses_a_body_larger_than_its_declared_size(settings):
    settings.KYC_DOCUMENT_MAX_BYTES = 100
    player, officer = make_player(), make_staff(StaffRole.COMPLIANCE)
    lying = SimpleUploadedFile("x.pdf", PDF + b"0" * 200, content_type="application/pdf")
    lying.size = 10
    with pytest.raises(accounts.errors.DocumentTooLarge) as refused:
        accounts.upload_kyc_document(player_id=player.pk, kind="passport", file=lying, acting_user=officer)
    assert refused.value.code == "FILE_TOO_LARGE"


def test_support_sees_the_status_only_and_may_neither_upload_nor_decide(media):
    player, officer = make_player(), session(StaffRole.COMPLIANCE)
    upload(officer, player, PDF, "p.pdf", "application/pdf")
    support = session(StaffRole.SUPPORT)

    page = support.get(kyc_url(player))

    assert page.status_code == 200
    assert b'id="kyc-status">unverified<' in page.content
    assert b"kyc-documents" not in page.content
    assert b"download" not in page.content
    assert upload(support, player, PDF, "p.pdf", "application/pdf").status_code == 403
    assert support.post(kyc_url(player), {"decision-decision": "approve"}).status_code == 403
    assert (KycDocument.objects.count(), status_of(player)[1]) == (1, "unverified")
    assert session(StaffRole.FINANCE).post(kyc_url(player), {"decision-decision": "approve"}).status_code == 403


def test_kyc_approval_needs_a_document_and_rejection_a_reason():
    player, officer = make_player(), session(StaffRole.COMPLIANCE)

    refused = officer.post(kyc_url(player), {"decision-decision": "approve"})
    assert b"KYC_DOCUMENTS_REQUIRED" in refused.content
    no_reason = officer.post(kyc_url(player), {"decision-decision": "reject", "decision-reason": " "})
    assert b"INVALID_KYC_DECISION" in no_reason.content
    assert status_of(player)[1] == "unverified"

    rejected = officer.post(kyc_url(player), {"decision-decision": "reject", "decision-reason": "blurred scan"})
    assert (rejected.status_code, status_of(player)[1]) == (302, "rejected")
    upload(officer, player, PNG, "id.png", "image/png", kind="id_card")
    approved = officer.post(kyc_url(player), {"decision-decision": "approve", "decision-reason": "ID matches"})
    assert (approved.status_code, status_of(player)[1]) == (302, "verified")

    page = officer.get(kyc_url(player))
    assert b"kyc-documents" in page.content
    assert b"Identity card" in page.content
    records = StaffAction.objects.filter(action="player.kyc").order_by("pk")
    assert [(r.actor, r.before, r.after, r.reason) for r in records] == [
        (officer.user, {"kyc_status": "unverified"}, {"kyc_status": "rejected"}, "blurred scan"),
        (officer.user, {"kyc_status": "rejected"}, {"kyc_status": "verified"}, "ID matches"),
    ]
    assert_trail_clean()


# --- standing ------------------------------------------------------------------------------------


def test_compliance_freezes_and_reopens_one_player_with_a_reason():
    player, officer = make_player(), session(StaffRole.COMPLIANCE)
    url = f"/backoffice/players/{player.pk}/standing/"

    assert officer.get(url).status_code == 200
    without = officer.post(url, {"action": "freeze", "reason": ""})
    assert (without.status_code, status_of(player)[0]) == (200, "active")

    frozen = officer.post(url, {"action": "freeze", "reason": "chargeback fraud ring"})
    assert (frozen.status_code, status_of(player)[0]) == (302, "frozen")
    again = officer.post(url, {"action": "lock", "reason": "again"})
    assert b"INVALID_STANDING_CHANGE" in again.content
    reopened = officer.post(url, {"action": "reopen", "reason": "cleared by review"})
    assert (reopened.status_code, status_of(player)[0]) == (302, "active")

    records = StaffAction.objects.order_by("pk")
    assert [(r.action, r.actor, r.reason) for r in records] == [
        ("account.freeze", officer.user, "chargeback fraud ring"),
        ("account.reopen", officer.user, "cleared by review"),
    ]
    assert_trail_clean()


@pytest.mark.parametrize("role", [StaffRole.SUPPORT, StaffRole.FINANCE])
def test_support_and_finance_cannot_change_standing(role):
    player, staff = make_player(), session(role)
    url = f"/backoffice/players/{player.pk}/standing/"
    assert staff.get(url).status_code == 403
    assert staff.post(url, {"action": "lock", "reason": "x"}).status_code == 403
    assert status_of(player)[0] == "active"


def test_unknown_players_are_404():
    officer = session(StaffRole.COMPLIANCE)
    assert officer.get("/backoffice/players/999999/standing/").status_code == 404
    assert officer.get("/backoffice/players/999999/kyc/").status_code == 404
