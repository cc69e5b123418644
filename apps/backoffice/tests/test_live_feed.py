"""The back office's live feed page: staff who may see transactions get it; others do not."""

import pytest

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_staff

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", [StaffRole.SUPPORT, StaffRole.COMPLIANCE, StaffRole.FINANCE, StaffRole.ADMIN])
def test_staff_who_may_see_transactions_get_the_feed_page(client, role):
    client.force_login(make_staff(role))

    page = client.get("/backoffice/live/")

    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="feed"' in html
    assert "js/backoffice-feed.js" in html
    assert 'id="currency-exponents"' in html


def test_the_admin_index_links_to_the_feed(client):
    client.force_login(make_staff(StaffRole.SUPPORT))

    assert "/backoffice/live/" in client.get("/backoffice/").content.decode()


def test_anonymous_visitors_are_sent_to_the_back_office_login(client):
    page = client.get("/backoffice/live/")

    assert page.status_code == 302
    assert page["Location"].startswith("/backoffice/login/")


def test_staff_without_the_permission_are_refused(client):
    staff = make_staff(StaffRole.SUPPORT)
    staff.groups.clear()
    client.force_login(staff)

    assert client.get("/backoffice/live/").status_code == 403
