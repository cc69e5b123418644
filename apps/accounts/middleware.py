"""The login throttle's answer on every login page: 429 with `Retry-After`."""

from apps.common.middleware import AroundMiddleware


class LoginThrottleMiddleware(AroundMiddleware):
    """A request whose login the throttle refused (`request.login_refusal`, set by
    ThrottledModelBackend) is answered 429 with `Retry-After`, whatever page the view rendered:
    the player API's error, the site's login form or the admin's, each saying when to try again.
    One place, so that no login view can forget it."""

    def after(self, request, response, state):
        return _answer_refusal(request, response)


def _answer_refusal(request, response):
    refusal = getattr(request, "login_refusal", None)
    if refusal is not None:
        response.status_code = refusal.status
        response["Retry-After"] = str(refusal.retry_after)
    return response
