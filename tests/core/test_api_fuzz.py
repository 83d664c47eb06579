"""Schema-driven fuzzing of the whole API (core and an enabled plugin) with schemathesis:
every generated request must get a documented, well-formed answer — never a server error."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.helpers import PASSWORD

EXAMPLES = 30


def test_api_never_fails(make_app, world):
    make_app.set_plugin("sample", True)
    app = make_app(LOGIN_MAX_FAILURES=10**6)  # fuzzing signs in wrongly on purpose
    r = app.test_client().post("/api/v1/auth/token", json={
        "identifier": world.people["m1"].card_number, "password": PASSWORD})
    token = r.get_json()["token"]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    checked = []

    def fuzz(operation) -> None:
        # Signing out or revoking devices would end the fuzzing session's own token.
        authorised = operation.method.upper() != "DELETE"

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case) -> None:
            if authorised:
                case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
            case.call_and_validate()

        check()

    for result in schema.get_all_operations():
        operation = result.ok()
        fuzz(operation)
        checked.append(f"{operation.method.upper()} {operation.path}")
    assert len(checked) >= 8, checked
    assert "GET /api/v1/sample/notes" in checked
