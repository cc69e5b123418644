"""The back office's permission matrix: every page and action of `/backoffice/`, and which staff
role may open or run it, computed from the code (docs/permissions.md is its output).

The pages are found, not listed: for every ModelAdmin registered on the site, its change list,
add, change, delete and history pages, each of its actions (`get_actions`) and every other URL
its `get_urls` adds; the site's own pages (Django's index, password change and app indexes) and
every URL the BackOfficeSite adds. A page that is neither one of the ModelAdmin's or Django's
standard pages must declare what it needs with `apps.common.admin.staff_page`; `build()` raises
`UndeclaredPage` for one that does not, so a page added later cannot be missing from the table
(apps/backoffice/tests/test_permission_matrix.py opens every page as every role and checks the
table against what the back office does).

Each role is asked as the admin asks a real user, through the ModelAdmins' own
`has_*_permission` methods and `get_actions`, with a stand-in user that holds exactly the role's
permissions of `ROLE_PERMISSIONS` (`RoleUser`): the table is the code's, the same on any
database. The exhaustive test logs in users of the real groups, so a permission named in
roles.py that no model defines shows up as a difference there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib import admin
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, reverse

from apps.accounts.choices import StaffRole
from apps.accounts.roles import ALL, ROLE_PERMISSIONS
from apps.common.admin import MODEL_ADMIN_PERMISSIONS, may_open

# What a cell says: the page opens (or the action runs), the change page opens editable or
# read-only, or the role is refused.
YES, EDIT, READ, NO = "yes", "edit", "read", "—"

# Django's own pages of the site that every staff member opens (the admin's `has_permission`:
# active staff): the index, the password change, the admin's JavaScript catalogue.
_STAFF_PAGES = {
    "index": "the dashboard (index)",
    "password_change": "change own password",
    "password_change_done": "password changed",
    "jsi18n": "the admin's JavaScript catalogue",
    # Each figure in it is read only for staff who may open its list (backoffice/selectors.py).
    "dashboard_json": "the dashboard's figures as JSON, each as the index shows it to the role",
}
# Django's URLs of the site that are no page a role opens, and why they are not in the table.
NOT_PAGES = {
    "login": "the login form, before anyone has a role",
    "logout": "POST only: ends the caller's own session",
    "autocomplete": "answers an autocomplete field's queries as that field's ModelAdmin allows; no admin has one",
    "view_on_site": "redirects to an object's public URL (get_absolute_url), outside the back office",
}
# The site's last URL, unnamed: a login redirect, or a 404, for any path nothing else matched.
_CATCH_ALL = "catch_all_view"
# The ModelAdmin's own URLs, by the suffix of their name; its unnamed `<object_id>/` only
# redirects to the change page.
_MODEL_PAGES = ("changelist", "add", "change", "delete", "history")


class UndeclaredPage(Exception):
    """A back-office URL whose permission is neither derived nor declared with `staff_page`."""


class RoleUser:
    """A staff member of `role` as Django's permission backend answers for them: active staff with
    the role's permissions of ROLE_PERMISSIONS; the `admin` role is a superuser, as
    `accounts.services.create_staff_user` makes it."""

    is_active = is_staff = is_authenticated = True
    is_anonymous = False
    pk = id = None

    def __init__(self, role: StaffRole) -> None:
        self.role = role
        wanted = ROLE_PERMISSIONS[role]
        self.is_superuser = role == StaffRole.ADMIN
        self.holds_all = wanted == ALL
        self.permissions = frozenset() if wanted == ALL else frozenset(wanted)

    def has_perm(self, perm: str, obj=None) -> bool:
        return self.is_superuser or self.holds_all or perm in self.permissions

    def has_perms(self, perms, obj=None) -> bool:
        return all(self.has_perm(perm, obj) for perm in perms)

    def has_module_perms(self, app_label: str) -> bool:
        return self.is_superuser or self.holds_all or any(p.startswith(f"{app_label}.") for p in self.permissions)

    def __str__(self) -> str:
        return f"{self.role.value} (role)"


def role_request(role: StaffRole):
    """A GET request of a `role` member, as the permission methods and `get_actions` read one."""
    request = RequestFactory().get("/")
    request.user = RoleUser(role)
    return request


@dataclass(frozen=True)
class Page:
    """One row of the matrix: a page (GET) or an action (POST to its change list).

    `url_name` (in the `admin` namespace) and `kwargs` build its URL; `fill` names the URL's
    arguments a real object must supply (`object_id` …). `refused` is the status the back office
    answers a role that may not (the admin answers 404 for an app's index it shows nobody)."""

    key: str
    area: str
    title: str
    path: str
    rule: str
    url_name: str
    decide: Callable = field(compare=False, repr=False)
    kwargs: tuple[tuple[str, str], ...] = ()
    fill: tuple[str, ...] = ()
    action: str = ""
    model_admin: admin.ModelAdmin | None = field(default=None, compare=False, repr=False)
    refused: int = 403

    def verdict(self, role: StaffRole) -> str:
        return self.decide(role_request(role))


def build(site: admin.AdminSite | None = None, prefix: str | None = None) -> list[Page]:
    """Every page and action of the back office (`site`, mounted at `prefix`), the site's first,
    then each registered model's (by app label and model name). Raises UndeclaredPage."""
    site = site or admin.site
    prefix = reverse(f"{site.name}:index") if prefix is None else prefix
    pages = list(_site_pages(site, prefix))
    for model, model_admin in sorted(site._registry.items(), key=lambda item: item[0]._meta.label_lower):
        pages.extend(_model_pages(site, prefix, model, model_admin))
    return pages


def table(pages: list[Page] | None = None) -> str:
    """The matrix as a Markdown table: one row per page or action, one column per role."""
    pages = build() if pages is None else pages
    roles = list(StaffRole)
    lines = [
        "| area | page | path | needs | " + " | ".join(role.value for role in roles) + " |",
        "| --- | --- | --- | --- | " + " | ".join("---" for _ in roles) + " |",
    ]
    for page in pages:
        cells = [page.area, page.title, f"`{page.path}`", page.rule, *(page.verdict(role) for role in roles)]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


# --- the site's pages ---------------------------------------------------------------------------


def _site_pages(site: admin.AdminSite, prefix: str) -> Iterator[Page]:
    model_prefixes = {f"{model._meta.app_label}/{model._meta.model_name}/" for model in site._registry}
    for pattern, route in _walk(site.get_urls(), "", model_prefixes):
        if route in model_prefixes:
            continue  # each model's own URLs, below
        name = pattern.name
        if name in _STAFF_PAGES:
            yield Page(key=f"site:{name}", area="site", title=_STAFF_PAGES[name], path=prefix + route,
                       rule="active staff", url_name=name, decide=_any_staff)  # fmt: skip
        elif name == "app_list":
            yield from _app_indexes(site, prefix)
        elif name in NOT_PAGES or (name is None and getattr(pattern.callback, "__name__", "") == _CATCH_ALL):
            continue
        else:
            permission = declared_permission(pattern.callback)
            if permission is None or name is None:
                raise UndeclaredPage(_undeclared(prefix + route, name, "the site's get_urls"))
            yield Page(key=f"site:{name}", area="site", title=_title(name), path=prefix + route,
                       rule=f"`{permission}`", url_name=name, fill=_arguments(pattern),
                       decide=_declared(permission, None))  # fmt: skip


def _app_indexes(site: admin.AdminSite, prefix: str) -> Iterator[Page]:
    labels = sorted({model._meta.app_label for model in site._registry})
    for label in labels:
        admins = [ma for model, ma in site._registry.items() if model._meta.app_label == label]

        def shown(request, admins=admins) -> str:
            # As the admin's `_build_app_dict`: an app's index lists the models the user has a
            # permission on, and is a 404 when it would list none.
            visible = any(ma.has_module_permission(request) and any(ma.get_model_perms(request).values())
                          for ma in admins)  # fmt: skip
            return YES if visible else NO

        yield Page(key=f"site:app_list:{label}", area="site", title=f"the {label} app's index",
                   path=f"{prefix}{label}/", rule="a permission on one of its models", url_name="app_list",
                   kwargs=(("app_label", label),), decide=shown, refused=404)  # fmt: skip


# --- each ModelAdmin's pages and actions --------------------------------------------------------


def _model_pages(site: admin.AdminSite, prefix: str, model, model_admin: admin.ModelAdmin) -> Iterator[Page]:
    opts = model._meta
    area = opts.label_lower
    base = f"{prefix}{opts.app_label}/{opts.model_name}/"
    standard = {f"{opts.app_label}_{opts.model_name}_{suffix}": suffix for suffix in _MODEL_PAGES}
    routes = {}
    custom = []
    for pattern, route in _walk(model_admin.get_urls(), ""):
        if pattern.name in standard:
            routes[standard[pattern.name]] = (pattern, route)
        elif pattern.name is None and route == "<path:object_id>/":
            continue  # Django's redirect of an object's bare URL to its change page
        else:
            custom.append((pattern, route))

    ma = model_admin
    # An object's pages are asked about an object, as the admin asks (an admin may allow adding
    # but not changing what was added): a new, unsaved one stands for it.
    one = model()

    def may_see_one(request) -> bool:
        return ma.has_view_or_change_permission(request, one)

    def may_delete_one(request) -> bool:
        return ma.has_delete_permission(request, one)

    derived = {
        "changelist": ("change list", "view or change", _yes_if(ma.has_view_or_change_permission)),
        "add": ("add", "add", _yes_if(ma.has_add_permission)),
        "change": ("change page", "change (edit) or view (read)", _edit_or_read(ma, one)),
        "delete": ("delete page", "delete", _yes_if(may_delete_one)),
        "history": ("history", "view or change", _yes_if(may_see_one)),
    }
    for suffix in _MODEL_PAGES:
        if suffix not in routes:
            continue
        title, rule, decide = derived[suffix]
        pattern, route = routes[suffix]
        yield Page(key=f"{area}:{suffix}", area=area, title=title, path=base + route, rule=rule,
                   url_name=pattern.name, fill=_arguments(pattern), decide=decide, model_admin=ma)  # fmt: skip

    for pattern, route in custom:
        permission = declared_permission(pattern.callback)
        if permission is None or pattern.name is None:
            raise UndeclaredPage(_undeclared(base + route, pattern.name, f"{type(ma).__name__}.get_urls"))
        rule = f"the list's `{permission}`" if permission in MODEL_ADMIN_PERMISSIONS else f"`{permission}`"
        yield Page(key=f"{area}:{pattern.name}", area=area, title=_title(pattern.name, opts),
                   path=base + route, rule=rule, url_name=pattern.name, fill=_arguments(pattern),
                   decide=_declared(permission, ma), model_admin=ma)  # fmt: skip

    for name, description in _actions(ma):
        yield Page(key=f"{area}:action:{name}", area=area, title=f"action: {description}",
                   path=base + routes["changelist"][1], rule=_action_rule(ma, name),
                   url_name=f"{opts.app_label}_{opts.model_name}_changelist",
                   action=name, decide=_runs(ma, name), model_admin=ma)  # fmt: skip


def _actions(model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
    """Every action some role is offered (the admin role holds every permission, but an admin may
    refuse an action to everyone: delete_selected on a read-only list)."""
    offered = {}
    for role in StaffRole:
        for name, (_, _, description) in model_admin.get_actions(role_request(role)).items():
            offered.setdefault(name, str(description) % admin.utils.model_format_dict(model_admin.opts))
    return sorted(offered.items())


def _action_rule(model_admin: admin.ModelAdmin, name: str) -> str:
    func = model_admin.get_action(name)[0]
    needs = getattr(func, "allowed_permissions", ())
    wanted = " and ".join(f"`has_{permission}_permission`" for permission in needs) or "none of its own"
    return f"view or change the list; {wanted}"


def _yes_if(check: Callable) -> Callable:
    return lambda request: YES if check(request) else NO


def _any_staff(request) -> str:
    return YES if request.user.is_active and request.user.is_staff else NO


def _edit_or_read(model_admin: admin.ModelAdmin, obj) -> Callable:
    def decide(request) -> str:
        if model_admin.has_change_permission(request, obj):
            return EDIT
        return READ if model_admin.has_view_permission(request, obj) else NO

    return decide


def _declared(permission: str, model_admin: admin.ModelAdmin | None) -> Callable:
    return lambda request: YES if may_open(request, permission, model_admin) else NO


def _runs(model_admin: admin.ModelAdmin, name: str) -> Callable:
    def decide(request) -> str:
        # Actions are posted to the change list, which refuses first whoever may not open it.
        listed = model_admin.has_view_or_change_permission(request)
        return YES if listed and name in model_admin.get_actions(request) else NO

    return decide


# --- reading URLs and declarations --------------------------------------------------------------


def _walk(patterns, prefix: str, stop: frozenset[str] = frozenset()) -> Iterator[tuple[URLPattern | URLResolver, str]]:
    """Each URL pattern with its route; an include is walked into, but for the routes in `stop`
    (the models' own URLs), yielded as one entry."""
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver) and route not in stop:
            yield from _walk(pattern.url_patterns, route, stop)
        else:
            yield pattern, route


def declared_permission(callback) -> str | None:
    """What a view declared with `staff_page` (kept through `admin_view` and other wrappers)."""
    seen = callback
    while seen is not None:
        permission = getattr(seen, "required_permission", None) or getattr(
            getattr(seen, "view_class", None), "required_permission", None
        )
        if permission:
            return permission
        seen = getattr(seen, "__wrapped__", None)
    return None


def _arguments(pattern: URLPattern) -> tuple[str, ...]:
    converters = getattr(pattern.pattern, "converters", None)
    if converters:
        return tuple(converters)
    regex = pattern.pattern.regex
    return tuple(regex.groupindex)


def _title(name: str, opts=None) -> str:
    """A custom page's title: its URL name, without the model's prefix (`games_game_live_rtp`:
    "live rtp")."""
    if opts is not None:
        name = name.removeprefix(f"{opts.app_label}_{opts.model_name}_").removeprefix(f"{opts.app_label}_")
    return name.replace("_", " ")


def _undeclared(route: str, name: str | None, where: str) -> str:
    return (
        f"{route} (URL name {name!r}, from {where}) declares no permission: decorate its view with "
        "apps.common.admin.staff_page('app_label.codename') (or 'view'/'add'/'change'/'delete' on a "
        "ModelAdmin's method), and give its URL a name"
    )


# --- docs/permissions.md ------------------------------------------------------------------------

DOCS = Path(settings.BASE_DIR) / "docs" / "permissions.md"
BEGIN = "<!-- permission matrix: generated by `manage.py permission_matrix --write`, do not edit -->"
END = "<!-- end of the permission matrix -->"
FIX = ".venv/bin/python manage.py permission_matrix --write"


def documented(text: str) -> str:
    """The table between the markers of docs/permissions.md (empty if they are missing)."""
    if BEGIN not in text or END not in text:
        return ""
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def with_table(text: str, generated: str) -> str:
    """`text` (docs/permissions.md) with `generated` between its markers."""
    if BEGIN not in text or END not in text:
        raise ValueError(f"{DOCS} has lost its markers: put {BEGIN!r} and {END!r} back around the table")
    before, rest = text.split(BEGIN, 1)
    after = rest.split(END, 1)[1]
    return f"{before}{BEGIN}\n\n{generated}\n{END}{after}"
