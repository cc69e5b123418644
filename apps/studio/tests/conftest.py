from apps.studio.tests.support import studio  # noqa: F401  (the fixture, for every studio test)
