import pytest

from tests.api.support import Api


@pytest.fixture
def api(app, client):
    return Api(app, client)


@pytest.fixture(scope="session")
def openapi_doc(app):
    with app.test_client() as c:
        r = c.get("/api/v1/openapi.json")
    assert r.status_code == 200
    return r.get_json()
