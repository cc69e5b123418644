"""The back office's sign-in: the one-time code asked with the password (from staff with a device,
and from every staff member when STAFF_2FA_REQUIRED), recovery codes used once, every page
refusing a session without a code in required mode, staff sessions ending after inactivity, and
every attempt recorded as a `StaffLogin` with its client address."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib import admin
from django.urls import NoReverseMatch, reverse, set_script_prefix
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP

from apps.accounts import selectors, services
from apps.accounts.choices import StaffLoginOutcome, StaffRole
from apps.accounts.models import StaffLogin
from apps.accounts.tests.factories import PASSWORD, make_player, make_staff
from tests.support import PYTHON, clean_env, run

pytestmark = pytest.mark.django_db

LOGIN = "/backoffice/login/"
INDEX = "/backoffice/"
START = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
ADDRESS = "203.0.113.9"
AGENT = "Mozilla/5.0 (back office test)"
SHOW_SETTING = [
    PYTHON, "-c",
    "import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'pam.settings'); "
    "from django.conf import settings; print(settings.STAFF_2FA_REQUIRED)",
]  # fmt: skip


@pytest.fixture
def clock():
    """The clock stands still at START until the test moves it (TOTP codes are read from it)."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def required(settings):
    settings.STAFF_2FA_REQUIRED = True


def code_of(device) -> str:
    """The authenticator's current code, as the staff member's app shows it."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def sign_in(client, username, password=PASSWORD, otp_token="", address=ADDRESS):
    return client.post(
        f"{LOGIN}?next={INDEX}",
        {"username": username, "password": password, "otp_token": otp_token, "next": INDEX},
        REMOTE_ADDR=address,
        HTTP_USER_AGENT=AGENT,
    )


def signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == INDEX


def form_error_codes(response) -> dict[str, list[str]]:
    errors = response.context["form"].errors.as_data()
    return {field: [error.code for error in field_errors] for field, field_errors in errors.items()}


def outcomes() -> list[tuple[str, str, str | None, str, str]]:
    return [
        (login.username, login.outcome, login.user.username if login.user else None, login.address, login.user_agent)
        for login in StaffLogin.objects.order_by("pk")
    ]


# --- staff with a device give a code, required or not ------------------------------------------------


def test_staff_with_a_device_sign_in_with_the_password_and_a_code(client, clock):
    staff = make_staff(StaffRole.COMPLIANCE, username="cora")
    enrolment = services.enrol_staff_otp(user=staff)

    no_code = sign_in(client, "cora")
    assert no_code.status_code == 200
    assert form_error_codes(no_code) == {"otp_token": ["otp_required"]}
    assert client.get(INDEX).status_code == 302  # not signed in

    response = sign_in(client, "cora", otp_token=code_of(enrolment.device))

    assert signed_in(response)
    assert client.session[DEVICE_ID_SESSION_KEY] == enrolment.device.persistent_id
    assert client.get(INDEX).status_code == 200
    assert outcomes() == [
        ("cora", "bad_otp", "cora", ADDRESS, AGENT),
        ("cora", "success", "cora", ADDRESS, AGENT),
    ]


def test_a_wrong_code_is_refused_and_the_device_then_waits(client, clock):
    staff = make_staff(StaffRole.FINANCE, username="fin")
    enrolment = services.enrol_staff_otp(user=staff)
    right = code_of(enrolment.device)
    wrong = f"{(int(right) + 1) % 10**6:06d}"

    response = sign_in(client, "fin", otp_token=wrong)
    assert response.status_code == 200
    assert form_error_codes(response) == {"otp_token": ["otp_invalid"]}

    # django-otp makes the device wait 1 s after one wrong code: even the right code waits.
    throttled = sign_in(client, "fin", otp_token=right)
    assert form_error_codes(throttled) == {"otp_token": ["otp_throttled"]}
    assert "try again in 1 second" in throttled.content.decode()

    clock.shift(1)
    assert signed_in(sign_in(client, "fin", otp_token=right))
    assert [outcome for _, outcome, *_ in outcomes()] == ["bad_otp", "bad_otp", "success"]


def test_a_code_signs_in_once(client, clock):
    staff = make_staff(StaffRole.SUPPORT, username="sue")
    code = code_of(services.enrol_staff_otp(user=staff).device)
    assert signed_in(sign_in(client, "sue", otp_token=code))
    client.logout()

    again = sign_in(client, "sue", otp_token=code)  # the same 30 s step: already used

    assert form_error_codes(again) == {"otp_token": ["otp_invalid"]}


def test_a_recovery_code_signs_in_once_then_is_refused(client, clock):
    staff = make_staff(StaffRole.ADMIN, username="ada")
    enrolment = services.enrol_staff_otp(user=staff)
    recovery = enrolment.recovery_codes[3]

    assert signed_in(sign_in(client, "ada", otp_token=f" {recovery.upper()} "))  # as typed from paper
    client.logout()
    clock.shift(60)

    again = sign_in(client, "ada", otp_token=recovery)

    assert form_error_codes(again) == {"otp_token": ["otp_invalid"]}
    # The others still work.
    clock.shift(60)
    assert signed_in(sign_in(client, "ada", otp_token=enrolment.recovery_codes[4]))
    assert [outcome for _, outcome, *_ in outcomes()] == ["success", "logout", "bad_otp", "success"]


def test_a_wrong_authenticator_code_does_not_count_against_the_recovery_codes(client, clock):
    staff = make_staff(StaffRole.ADMIN, username="ada")
    enrolment = services.enrol_staff_otp(user=staff)
    right = code_of(enrolment.device)

    sign_in(client, "ada", otp_token=f"{(int(right) + 1) % 10**6:06d}")

    assert signed_in(sign_in(client, "ada", otp_token=enrolment.recovery_codes[0]))


def test_staff_without_a_device_sign_in_without_a_code_when_not_required(client, settings):
    assert settings.STAFF_2FA_REQUIRED is False  # the dev and test default
    make_staff(StaffRole.SUPPORT, username="sam")

    assert signed_in(sign_in(client, "sam"))
    assert client.get(INDEX).status_code == 200


def test_the_code_is_checked_only_after_the_right_password(client, clock):
    staff = make_staff(StaffRole.SUPPORT, username="sam")
    code = code_of(services.enrol_staff_otp(user=staff).device)

    response = sign_in(client, "sam", password="wrong-password-1", otp_token=code)

    assert response.status_code == 200
    assert form_error_codes(response) == {"__all__": ["invalid_login"]}
    assert [outcome for _, outcome, *_ in outcomes()] == ["bad_password"]
    # The code was not spent on the wrong password.
    assert signed_in(sign_in(client, "sam", otp_token=code))


# --- required mode ---------------------------------------------------------------------------------


def test_required_staff_without_a_device_cannot_sign_in(client, required):
    make_staff(StaffRole.ADMIN, username="root")

    response = sign_in(client, "root")

    assert response.status_code == 200
    assert form_error_codes(response) == {"__all__": ["otp_not_enrolled"]}
    assert "ask an admin to enrol you" in response.content.decode()
    assert client.get(INDEX).status_code == 302
    assert [outcome for _, outcome, *_ in outcomes()] == ["no_device"]


def backoffice_pages() -> list[str]:
    """Every page of the back office a staff member may open: the index, the live feed and each
    registered model's list and add page."""
    pages = [INDEX, reverse("admin:live_feed")]
    for model in admin.site._registry:
        for view in ("changelist", "add"):
            try:
                pages.append(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}"))
            except NoReverseMatch:
                continue
    return pages


def test_required_every_page_refuses_a_session_without_a_code(client, required, clock):
    staff = make_staff(StaffRole.ADMIN, username="root")
    enrolment = services.enrol_staff_otp(user=staff)
    client.force_login(staff)  # signed in, but never gave a code
    pages = backoffice_pages()
    assert len(pages) > 30

    for page in pages:
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"].startswith(f"{LOGIN}?next="), page

    client.logout()
    assert signed_in(sign_in(client, "root", otp_token=code_of(enrolment.device)))
    assert client.get(INDEX).status_code == 200
    assert client.get(reverse("admin:accounts_stafflogin_changelist")).status_code == 200


def test_required_a_replaced_device_no_longer_verifies_the_session(client, required, clock):
    staff = make_staff(StaffRole.ADMIN, username="root")
    enrolment = services.enrol_staff_otp(user=staff)
    assert signed_in(sign_in(client, "root", otp_token=code_of(enrolment.device)))

    services.enrol_staff_otp(user=staff)  # a lost phone: re-enrolled

    assert client.get(INDEX).status_code == 302


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({}, "False"),
        ({"PAM_ENV": "production", "SECRET_KEY": "k" * 40, "DEBUG": "false"}, "True"),
        ({"PAM_ENV": "production", "SECRET_KEY": "k" * 40, "DEBUG": "false", "STAFF_2FA_REQUIRED": "false"}, "False"),
        ({"STAFF_2FA_REQUIRED": "true"}, "True"),
    ],
)
def test_two_factor_is_required_by_default_in_production_only(tmp_path, variables, expected):
    result = run(SHOW_SETTING, clean_env(PAM_DATA_DIR=str(tmp_path), **variables))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_an_idle_limit_shorter_than_the_stamps_minute_is_refused(tmp_path):
    result = run(SHOW_SETTING, clean_env(PAM_DATA_DIR=str(tmp_path), STAFF_SESSION_IDLE_SECONDS="90"))
    assert result.returncode != 0
    assert "STAFF_SESSION_IDLE_SECONDS must be at least 120" in result.stderr


# --- every attempt recorded ------------------------------------------------------------------------


def test_each_failure_lockout_and_sign_out_is_recorded_with_the_address(client, clock, settings):
    staff = make_staff(StaffRole.SUPPORT, username="sam")
    player = make_player(username="pat")

    sign_in(client, "nobody", password="whatever-it-is")
    sign_in(client, "pat")  # a player's right password: not a staff account
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        sign_in(client, "sam", password="wrong-password-1")
    locked = sign_in(client, "sam")  # the right password, refused unchecked
    assert locked.status_code == 429
    clock.shift(settings.LOGIN_DELAY_SECONDS)
    assert signed_in(sign_in(client, "sam", address="198.51.100.4"))
    client.post("/backoffice/logout/", REMOTE_ADDR="198.51.100.4", HTTP_USER_AGENT=AGENT)

    assert outcomes() == [
        ("nobody", "bad_password", None, ADDRESS, AGENT),
        ("pat", "not_staff", "pat", ADDRESS, AGENT),
        *[("sam", "bad_password", "sam", ADDRESS, AGENT)] * settings.LOGIN_FAILURE_LIMIT,
        ("sam", "locked_out", "sam", ADDRESS, AGENT),
        ("sam", "success", "sam", "198.51.100.4", AGENT),
        ("sam", "logout", "sam", "198.51.100.4", AGENT),
    ]
    assert StaffLogin.objects.filter(user=staff).count() == settings.LOGIN_FAILURE_LIMIT + 3
    assert not StaffLogin.objects.filter(user=player.user).exclude(outcome=StaffLoginOutcome.NOT_STAFF).exists()


def test_a_players_sign_in_on_the_site_is_not_a_staff_login(client):
    make_player(username="pat")
    client.post("/login/", {"username": "pat", "password": "wrong-password-1"}, REMOTE_ADDR=ADDRESS)
    client.post("/login/", {"username": "pat", "password": PASSWORD}, REMOTE_ADDR=ADDRESS)

    assert not StaffLogin.objects.exists()


def test_staff_logins_are_read_only_in_the_back_office_for_admins_and_compliance(client):
    make_staff(StaffRole.SUPPORT, username="sam")
    sign_in(client, "sam", password="wrong-password-1")
    login = StaffLogin.objects.get()
    page = reverse("admin:accounts_stafflogin_change", args=[login.pk])

    for role, status in ((StaffRole.ADMIN, 200), (StaffRole.COMPLIANCE, 200), (StaffRole.SUPPORT, 403),
                         (StaffRole.FINANCE, 403)):  # fmt: skip
        client.force_login(make_staff(role))
        assert client.get(reverse("admin:accounts_stafflogin_changelist")).status_code == status, role
        response = client.get(page)
        assert response.status_code == status, role
        if status == 200:
            assert b'name="_save"' not in response.content
        assert client.post(page, {"outcome": "success"}).status_code == 403, role
        delete = reverse("admin:accounts_stafflogin_delete", args=[login.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403, role

    assert StaffLogin.objects.get(pk=login.pk).outcome == "bad_password"


def test_the_device_pages_never_show_the_secret(client):
    admin_user = make_staff(StaffRole.ADMIN, username="root")
    enrolment = services.enrol_staff_otp(user=admin_user)
    client.force_login(admin_user)

    for page in (reverse("admin:otp_totp_totpdevice_changelist"),
                 reverse("admin:otp_totp_totpdevice_change", args=[enrolment.device.pk])):  # fmt: skip
        response = client.get(page)
        assert response.status_code == 200
        assert enrolment.device.key not in response.content.decode()
        assert enrolment.secret not in response.content.decode()
    static = reverse("admin:otp_static_staticdevice_changelist")
    assert not any(code in client.get(static).content.decode() for code in enrolment.recovery_codes)


# --- inactivity -------------------------------------------------------------------------------------


def test_a_staff_session_ends_after_the_idle_limit(client, clock, settings):
    make_staff(StaffRole.SUPPORT, username="sam")
    assert signed_in(sign_in(client, "sam"))
    idle = settings.STAFF_SESSION_IDLE_SECONDS

    clock.shift(idle - 1)
    assert client.get(INDEX).status_code == 200  # activity: the limit starts again
    clock.shift(idle - 1)
    assert client.get(INDEX).status_code == 200
    clock.shift(idle + 1)

    response = client.get(INDEX, REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT=AGENT)

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert "_auth_user_id" not in client.session
    assert outcomes()[-1] == ("sam", "idle_logout", "sam", ADDRESS, AGENT)
    assert client.get(INDEX).status_code == 302  # and stays signed out


def test_a_staff_session_ends_after_the_idle_limit_when_served_under_a_path(client, clock, settings):
    # Behind a proxy that serves PAM under /pam (SCRIPT_NAME): the back office is /pam/backoffice/,
    # its path within the application still /backoffice/.
    make_staff(StaffRole.SUPPORT, username="sam")
    assert signed_in(sign_in(client, "sam"))
    clock.shift(settings.STAFF_SESSION_IDLE_SECONDS + 1)

    set_script_prefix("/pam/")
    try:
        response = client.get(INDEX, SCRIPT_NAME="/pam")
    finally:
        set_script_prefix("/")

    assert response.status_code == 302
    assert response["Location"].startswith(f"/pam{LOGIN}")
    assert "_auth_user_id" not in client.session
    assert outcomes()[-1][:2] == ("sam", "idle_logout")


def test_the_activity_stamp_moves_at_most_once_a_minute(client, clock):
    make_staff(StaffRole.SUPPORT, username="sam")
    assert signed_in(sign_in(client, "sam"))
    stamped = client.session[selectors.STAFF_SEEN_AT_SESSION_KEY]
    assert stamped == int(START.timestamp())

    clock.shift(59)
    client.get(INDEX)
    assert client.session[selectors.STAFF_SEEN_AT_SESSION_KEY] == stamped
    clock.shift(1)
    client.get(INDEX)
    assert client.session[selectors.STAFF_SEEN_AT_SESSION_KEY] == stamped + 60


def test_players_sessions_do_not_expire_with_the_staff_limit(client, clock, settings):
    player = make_player(username="pat")
    client.force_login(player.user)

    clock.shift(settings.STAFF_SESSION_IDLE_SECONDS * 4)

    assert client.get("/account/").status_code == 200
    assert client.get(INDEX).status_code == 302  # a player is not staff: the back office asks to sign in
    assert client.get("/account/").status_code == 200  # and the player's session goes on
    assert not StaffLogin.objects.exists()


def test_a_staff_session_outside_the_back_office_is_left_alone(client, clock, settings):
    make_staff(StaffRole.SUPPORT, username="sam")
    assert signed_in(sign_in(client, "sam"))
    clock.shift(settings.STAFF_SESSION_IDLE_SECONDS + 1)

    client.get("/api/schema/")

    assert "_auth_user_id" in client.session
    assert client.get(INDEX).status_code == 302  # the back office's next request ends it
    assert outcomes()[-1][1] == "idle_logout"


def test_staff_who_must_give_a_code_cannot_sign_in_on_the_sites_form(client, clock):
    """The site's form asks no code, and its session is the back office's too."""
    staff = make_staff(StaffRole.SUPPORT, username="sam")
    services.enrol_staff_otp(user=staff)

    response = client.post("/login/", {"username": "sam", "password": PASSWORD}, REMOTE_ADDR=ADDRESS,
                           HTTP_USER_AGENT=AGENT)  # fmt: skip

    assert response.status_code == 200
    assert form_error_codes(response) == {"__all__": ["staff_sign_in_elsewhere"]}
    assert "_auth_user_id" not in client.session
    assert outcomes() == [("sam", "bad_otp", "sam", ADDRESS, AGENT)]


def test_staff_without_a_device_still_sign_in_on_the_sites_form_when_not_required(client):
    make_staff(StaffRole.SUPPORT, username="sam")

    response = client.post("/login/", {"username": "sam", "password": PASSWORD})

    assert response.status_code == 302
    assert [outcome for _, outcome, *_ in outcomes()] == ["success"]


def test_the_sign_in_page_asks_for_the_code_with_the_password(client):
    page = client.get(LOGIN).content.decode()

    assert 'name="username"' in page
    assert 'name="password"' in page
    assert 'name="otp_token"' in page
    assert 'autocomplete="one-time-code"' in page
    assert "One-time code" in page
