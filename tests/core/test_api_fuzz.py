"""Schema-driven fuzzing of the whole API (core and the enabled plugins) with schemathesis:
every generated request must get a documented, well-formed answer — never a server error."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.helpers import PASSWORD

EXAMPLES = 30
#: Bodies checked against business rules beyond the schema (the member's cover on the event
#: date, deadlines, the file's real type): a schema-valid body may rightly get a 422 with a
#: message per field, so only "never a server error" and the other checks apply to them.
BUSINESS_VALIDATED = {"POST /api/v1/mutualaid/claims",
                      "POST /api/v1/mutualaid/claims/{claim_id}/files",
                      # stock, limits, eligibility and states: a refusal is a 409 with reason
                      "POST /api/v1/benefits_mall/offers/{offer_id}/claim",
                      "POST /api/v1/benefits_mall/offers/{offer_id}/bookings",
                      "POST /api/v1/benefits_mall/bookings/{booking_id}/cancel",
                      "POST /api/v1/benefits_mall/coupons/{coupon_id}/cancel",
                      # rate limits, sensitive words, locked topics, closed boards
                      "POST /api/v1/portal/hotline/questions",
                      "POST /api/v1/portal/forum/boards/{board_id}/topics",
                      "POST /api/v1/portal/forum/topics/{topic_id}/posts",
                      "POST /api/v1/portal/forum/posts/{post_id}/report",
                      # copies, per-reader limits, the waiting list: a refusal is a 409
                      "POST /api/v1/library/loans",
                      "POST /api/v1/library/holds",
                      "POST /api/v1/library/shelves",
                      # the standard shelves (想读, 在读, 读过) cannot be renamed: a 422
                      "PATCH /api/v1/library/shelves/{shelf_id}",
                      # the query must hold a searchable word, not only spaces or punctuation
                      "GET /api/v1/library/search",
                      # an approval action the engine refuses (no task of yours, the
                      # request ended, an opinion missing): a 422, a lost race a 409
                      "POST /api/v1/oa/requests/{request_id}/actions"}


def test_api_never_fails(make_app, world):
    make_app.set_plugin("sample", True)
    make_app.set_plugin("mutualaid", True)
    make_app.set_plugin("benefits_mall", True)
    make_app.set_plugin("portal", True)
    make_app.set_plugin("library", True)
    make_app.set_plugin("oa", True)
    app = make_app(LOGIN_MAX_FAILURES=10**6)  # fuzzing signs in wrongly on purpose
    with app.app_context():
        from unionhub import db
        from unionhub_mutualaid import plans

        plans.seed(db.session(), (2025, 2026))  # claims need plan years to be filed under
        db.session().commit()
    r = app.test_client().post("/api/v1/auth/token", json={
        "identifier": world.people["m1"].card_number, "password": PASSWORD})
    token = r.get_json()["token"]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # Text with NUL is refused by every operation before it reaches the database (PostgreSQL
    # cannot store it; tests/core/test_api.py checks the refusal), so it is not "valid data".
    schema.config.generation.allow_x00 = False
    checked = []

    def fuzz(operation) -> None:
        # Signing out or revoking devices would end the fuzzing session's own token.
        authorised = operation.method.upper() != "DELETE"
        name = f"{operation.method.upper()} {operation.path}"
        excluded = [positive_data_acceptance] if name in BUSINESS_VALIDATED else []

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case) -> None:
            if authorised:
                case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
            case.call_and_validate(excluded_checks=excluded)

        check()

    for result in schema.get_all_operations():
        operation = result.ok()
        fuzz(operation)
        checked.append(f"{operation.method.upper()} {operation.path}")
    assert len(checked) >= 8, checked
    assert "GET /api/v1/sample/notes" in checked
    assert "POST /api/v1/mutualaid/claims" in checked
    assert "POST /api/v1/benefits_mall/offers/{offer_id}/claim" in checked
    assert "POST /api/v1/portal/forum/topics/{topic_id}/posts" in checked
    assert "GET /api/v1/portal/articles/{article_id}" in checked
    assert "GET /api/v1/library/categories/{code}/books" in checked
    assert "PUT /api/v1/library/books/{book_id}/progress" in checked
