"""The login throttle's answer on every login page: 429 with `Retry-After`."""

from asgiref.sync import iscoroutinefunction, markcoroutinefunction


class LoginThrottleMiddleware:
    """A request whose login the throttle refused (`request.login_refusal`, set by
    ThrottledModelBackend) is answered 429 with `Retry-After`, whatever page the view rendered:
    the player API's error, the site's login form or the admin's, each saying when to try again.
    One place, so that no login view can forget it. Sync and async, so it adds no thread hop."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(self.get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        return _answer_refusal(request, self.get_response(request))

    async def __acall__(self, request):
        return _answer_refusal(request, await self.get_response(request))


def _answer_refusal(request, response):
    refusal = getattr(request, "login_refusal", None)
    if refusal is not None:
        response.status_code = refusal.status
        response["Retry-After"] = str(refusal.retry_after)
    return response
