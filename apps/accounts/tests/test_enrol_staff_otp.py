"""`manage.py enrol_staff_otp`: a staff member's authenticator and recovery codes, printed once;
re-enrolment replaces every device and is a staff action; `--create-admin` makes the first admin
without ever echoing the password."""

from __future__ import annotations

import base64
import io
import re
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts import services
from apps.accounts.choices import StaffRole
from apps.accounts.models import User
from apps.accounts.tests.factories import make_player, make_staff
from apps.compliance.models import StaffAction

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-admin-passphrase-9"


def enrol(*args, **options) -> str:
    out = io.StringIO()
    call_command("enrol_staff_otp", *args, stdout=out, **options)
    return out.getvalue()


def printed(output: str) -> tuple[str, str, list[str]]:
    """(the otpauth URI, the base32 secret, the recovery codes) the command printed."""
    uri = re.search(r"otpauth URI: (\S+)", output).group(1)
    secret = re.search(r"secret \(base32\): (\S+)", output).group(1)
    codes = re.findall(r"^  ([a-z2-7]{8})$", output, flags=re.MULTILINE)
    return uri, secret, codes


def test_enrolment_prints_the_uri_the_secret_and_ten_recovery_codes_once():
    staff = make_staff(StaffRole.COMPLIANCE, username="cora")

    uri, secret, codes = printed(enrol("cora"))

    device = TOTPDevice.objects.get(user=staff)
    assert device.confirmed
    parsed = urlparse(uri)
    assert (parsed.scheme, parsed.netloc, unquote(parsed.path)) == ("otpauth", "totp", "/PAM back office:cora")
    query = parse_qs(parsed.query)
    assert query["secret"] == [secret]
    assert query["issuer"] == ["PAM back office"]
    assert (query["digits"], query["period"]) == (["6"], ["30"])
    # The secret printed is the device's: an app fed it computes the codes the server accepts.
    assert base64.b32decode(secret) == device.bin_key
    assert TOTP(base64.b32decode(secret)).token() == TOTP(device.bin_key).token()
    assert len(codes) == len(set(codes)) == 10
    assert sorted(StaticToken.objects.filter(device__user=staff).values_list("token", flat=True)) == sorted(codes)
    assert StaticDevice.objects.get(user=staff).confirmed


def test_the_enrolment_is_a_staff_action_without_secrets():
    staff = make_staff(StaffRole.SUPPORT, username="sam")

    _, secret, codes = printed(enrol("sam"))

    action = StaffAction.objects.get()
    assert (action.actor, action.action, action.target_type, action.target_id, action.reason) == (
        None, "staff.otp_enrol", "accounts.user", str(staff.pk), "enrolment",
    )  # fmt: skip
    assert action.before == {"devices": []}
    assert action.after["recovery_codes"] == 10
    stored = str(action.before) + str(action.after)
    assert secret not in stored
    assert TOTPDevice.objects.get().key not in stored
    assert not any(code in stored for code in codes)


def test_re_enrolment_replaces_every_device_and_is_recorded():
    staff = make_staff(StaffRole.ADMIN, username="root")
    first = services.enrol_staff_otp(user=staff)
    old_recovery = StaticDevice.objects.get(user=staff).pk

    _, _, codes = printed(enrol("root"))

    device = TOTPDevice.objects.get(user=staff)
    assert device.pk != first.device.pk
    assert StaticDevice.objects.filter(user=staff).count() == 1
    assert not set(first.recovery_codes) & set(StaticToken.objects.values_list("token", flat=True))
    assert set(codes) == set(StaticToken.objects.values_list("token", flat=True))
    second = StaffAction.objects.order_by("pk").last()
    assert second.reason == "re-enrolment: devices replaced"
    assert second.before == {
        "devices": sorted(
            [
                f"otp_totp.totpdevice/{first.device.pk} authenticator",
                f"otp_static.staticdevice/{old_recovery} recovery codes",
            ]
        )
    }


def test_an_unknown_user_is_refused_without_create_admin():
    with pytest.raises(CommandError, match=r"No user 'ghost'\. To create the first admin, add --create-admin\."):
        enrol("ghost")
    assert not User.objects.exists()


def test_a_player_cannot_be_enrolled():
    make_player(username="pat")
    with pytest.raises(CommandError, match="not a staff account"):
        enrol("pat")
    assert not TOTPDevice.objects.exists()


def test_create_admin_reads_the_password_file_and_never_prints_it(tmp_path):
    password_file = tmp_path / "password"
    password_file.write_text(NEW_PASSWORD + "\n")

    output = enrol("first-admin", create_admin=True, password_file=password_file)

    admin = User.objects.get(username="first-admin")
    assert admin.is_staff
    assert admin.is_superuser
    assert list(admin.groups.values_list("name", flat=True)) == [StaffRole.ADMIN.value]
    assert admin.check_password(NEW_PASSWORD)
    assert NEW_PASSWORD not in output
    assert "Created the admin first-admin." in output
    assert TOTPDevice.objects.get(user=admin).confirmed


def test_create_admin_prompts_twice_without_echo(monkeypatch):
    answers = iter([NEW_PASSWORD, NEW_PASSWORD])
    prompts = []

    def getpass(prompt):
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr("getpass.getpass", getpass)

    output = enrol("first-admin", create_admin=True)

    assert prompts == ["Password for the new admin: ", "Password (again): "]
    assert User.objects.get(username="first-admin").check_password(NEW_PASSWORD)
    assert NEW_PASSWORD not in output


def test_create_admin_refuses_differing_or_weak_passwords(monkeypatch, tmp_path):
    answers = iter([NEW_PASSWORD, NEW_PASSWORD + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    with pytest.raises(CommandError, match=r"The passwords differ\."):
        enrol("first-admin", create_admin=True)

    weak = tmp_path / "weak"
    weak.write_text("12345\n")
    with pytest.raises(CommandError, match="The password is refused"):
        enrol("first-admin", create_admin=True, password_file=weak)
    assert not User.objects.exists()


def test_create_admin_enrols_an_existing_user_as_they_are():
    staff = make_staff(StaffRole.SUPPORT, username="sam")

    output = enrol("sam", create_admin=True)

    assert "Created the admin" not in output
    assert list(User.objects.get(pk=staff.pk).groups.values_list("name", flat=True)) == [StaffRole.SUPPORT.value]
    assert Group.objects.get(name="admin").user_set.count() == 0
    assert TOTPDevice.objects.filter(user=staff).exists()
