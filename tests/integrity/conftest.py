"""Per-test file stores and logins, as for the case-file tests."""
from tests.casefile.conftest import actx, stores, web  # noqa: F401  (fixtures)
