from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.common import views as common_views
from apps.compliance import views as compliance_views
from apps.payments import views as payments_views
from apps.payments.api import urls as payments_urls
from apps.realtime import views as site_views
from apps.sportsbook.api import urls as sportsbook_urls

urlpatterns = [
    # Django tries the patterns in order and resolves every request anew: the APIs first, the
    # busiest first (every game round calls the wallet's, every sportsbook bet the player API's
    # sportsbook patterns), so that a call to them does not walk the site's and the back office's
    # patterns. No two patterns here match one path, so the order changes no answer.
    path("api/wallet/v1/", include("apps.wallet.api.urls")),
    path("api/player/v1/", include(sportsbook_urls.player_urlpatterns)),
    path("api/player/v1/", include("apps.accounts.api.urls")),
    path("api/player/v1/", include("apps.realtime.api.urls")),
    path("api/player/v1/", include("apps.compliance.api.urls")),
    path("api/player/v1/", include(payments_urls.player_urlpatterns)),
    path("api/player/v1/", include("apps.bonuses.api.urls")),
    path("api/player/v1/", include("apps.games.api.urls")),
    # The odds feeds' signed batches (contracts/sportsbook.md).
    path("api/feed/v1/", include(sportsbook_urls.feed_urlpatterns)),
    path("api/payments/v1/", include(payments_urls.webhook_urlpatterns)),
    # The player site: the wallet pages are the real-time app's, the account pages accounts',
    # the cashier payments', the responsible-gambling page compliance's, the bonuses page bonuses',
    # the lobby and the game pages games', the sportsbook page the sportsbook's.
    path("", site_views.player_page, name="site-home"),
    path("cashier/", payments_views.cashier_page, name="site-cashier"),
    path("history/", site_views.history_page, name="site-history"),
    path("responsible-gambling/", compliance_views.responsible_gambling, name="site-responsible-gambling"),
    path("", include("apps.accounts.urls")),
    path("", include("apps.bonuses.urls")),
    path("", include("apps.games.urls")),
    path("", include("apps.sportsbook.urls")),
    path("healthz", common_views.healthz, name="healthz"),
    path("readyz", common_views.readyz, name="readyz"),
    # Prometheus's scrape, to the configured addresses only (a plain view: not in the API schema).
    path("metrics", common_views.metrics_view, name="metrics"),
    path("backoffice/", admin.site.urls),
    # The staff API: the back office's decisions (four eyes) for staff sessions.
    path("api/backoffice/v1/", include("apps.backoffice.api.urls")),
    path("sandbox-psp/", include("apps.payments.sandbox_urls")),
    # PAM's own game studio: a provider of the wallet API, served here until it is lifted out.
    path("studio/", include("apps.studio.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]

handler404 = "apps.common.views.not_found"
handler500 = "apps.common.views.server_error"
