"""Personal API tokens: stored hashed, shown once, revoked, expired, refused by cookie."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

from api_helpers import ApiWorld
from sqlalchemy import select, update
from web_helpers import log_in_demo

from priorauth.cli import main
from priorauth.store.models import ApiToken, AuditEvent, User


def _token_row(api: ApiWorld, text: str) -> ApiToken:
    prefix = text.split("_")[1]
    with api.sessions() as session:
        return session.scalars(select(ApiToken).where(ApiToken.prefix == prefix)).one()


def test_only_the_secrets_hash_is_stored(api: ApiWorld) -> None:
    text = api.tokens["billing"]
    row = _token_row(api, text)
    secret = text.split("_", 2)[2]
    assert row.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {row.name, row.prefix, row.secret_sha256}


def test_a_revoked_token_is_refused(api: ApiWorld) -> None:
    assert api.call("billing", "GET", "/api/v1/cases").status_code == 200
    with api.sessions() as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.prefix == api.tokens["billing"].split("_")[1])
            .values(revoked_at=dt.datetime.now(dt.UTC))
        )
        session.commit()
    response = api.call("billing", "GET", "/api/v1/cases")
    assert response.status_code == 401
    assert response.get_json()["detail"] == "This token was revoked."
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    with api.sessions() as session:
        refused = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "api.authenticate")
        ).all()
    assert refused and refused[-1].outcome == "refused"
    assert "revoked" in refused[-1].detail


def test_an_expired_token_and_a_switched_off_account_are_refused(api: ApiWorld) -> None:
    with api.sessions() as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.prefix == api.tokens["physician"].split("_")[1])
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
        session.execute(update(User).where(User.id == api.users["advocate"]).values(active=False))
        session.commit()
    expired = api.call("physician", "GET", "/api/v1/cases")
    assert (expired.status_code, expired.get_json()["detail"]) == (401, "This token has expired.")
    off = api.call("advocate", "GET", "/api/v1/cases")
    assert off.status_code == 401
    assert "switched off" in off.get_json()["detail"]


def test_wrong_missing_and_malformed_tokens_are_refused(api: ApiWorld) -> None:
    good = api.tokens["billing"]
    for header in (
        {},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": f"Bearer {good[:-2]}xx"},
        {"Authorization": "Bearer pa_zzzzzzzzzzzz_secret"},
        {"Authorization": "Bearer " + "pa_" + "a" * 500},
    ):
        response = api.client.get("/api/v1/cases", headers=header)
        assert response.status_code == 401, header
        assert response.is_json


def test_a_web_session_cookie_does_not_open_the_api(api: ApiWorld) -> None:
    browser = api.app.test_client()
    log_in_demo(browser, "billing")
    assert browser.get("/").status_code == 200  # logged in on the web
    response = browser.get("/api/v1/cases")
    assert response.status_code == 401
    assert "Set-Cookie" not in response.headers
    # CSRF-free by design: a POST with the token and no CSRF token is not refused for it.
    created = browser.post("/api/v1/cases", json={}, headers=api.headers("billing"))
    assert created.status_code == 422


def test_the_rate_limit_answers_429(api: ApiWorld) -> None:
    api.app.config["PRIORAUTH_API_REQUESTS_PER_MINUTE"] = 3
    statuses = [api.call("billing", "GET", "/api/v1/products").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    limited = api.call("billing", "GET", "/api/v1/products")
    assert limited.headers["Retry-After"] == "60"
    # Another token has its own window.
    assert api.call("physician", "GET", "/api/v1/products").status_code == 200


def test_the_tokens_page_shows_a_new_token_once_and_revokes_it(api: ApiWorld) -> None:
    browser = api.app.test_client()
    log_in_demo(browser, "physician")
    made = browser.post("/account/tokens", data={"name": "Practice EHR", "lifetime": "30"})
    assert made.status_code == 201
    found = re.search(r"pa_[0-9a-f]{12}_[A-Za-z0-9_-]+", made.text)
    assert found is not None
    secret = found.group(0)
    assert "Set-Cookie" not in made.headers or secret not in made.headers["Set-Cookie"]
    assert secret not in browser.get("/account/tokens").text  # shown once
    response = api.client.get("/api/v1/cases", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    token_id = _token_row(api, secret).id
    assert browser.post(f"/account/tokens/{token_id}/revoke").status_code == 303
    again = api.client.get("/api/v1/cases", headers={"Authorization": f"Bearer {secret}"})
    assert again.status_code == 401
    # A name that is empty or too long is refused beside the field, what was typed kept.
    empty = browser.post("/account/tokens", data={"name": "  ", "lifetime": "30"})
    assert empty.status_code == 422 and 'id="token-name-error"' in empty.text
    long = browser.post("/account/tokens", data={"name": "x" * 101, "lifetime": "30"})
    assert long.status_code == 422 and "Shorten the name" in long.text


def test_an_admin_revokes_anyones_token_and_others_only_their_own(api: ApiWorld) -> None:
    billing_token = _token_row(api, api.tokens["billing"])
    advocate = api.app.test_client()
    log_in_demo(advocate, "advocate")
    assert advocate.post(f"/account/tokens/{billing_token.id}/revoke").status_code == 404
    assert api.call("billing", "GET", "/api/v1/cases").status_code == 200
    admin = api.app.test_client()
    log_in_demo(admin, "admin")
    assert "billing test" in admin.get("/account/tokens").text
    assert admin.post(f"/account/tokens/{billing_token.id}/revoke").status_code == 303
    assert api.call("billing", "GET", "/api/v1/cases").status_code == 401
    # Another organization's token is not theirs to see or revoke.
    other = _token_row(api, api.tokens["other-billing"])
    assert admin.post(f"/account/tokens/{other.id}/revoke").status_code == 404
    assert "other test" not in admin.get("/account/tokens").text
    with api.sessions() as session:
        actions = session.scalars(select(AuditEvent.action)).all()
    assert "token.revoke" in actions


def test_the_command_line_makes_lists_and_revokes_tokens(api: ApiWorld, capsys: object) -> None:
    url = api.app.config["PRIORAUTH_DATABASE_URL"]
    args = ["tokens", "create", "--email", "billing@demo.example", "--name", "Lab feed"]
    assert main([*args, "--days", "30", "--database-url", url]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    secret = out.split()[0]
    assert secret.startswith("pa_")
    response = api.client.get("/api/v1/products", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    prefix = secret.split("_")[1]
    assert main(["tokens", "list", "--email", "billing@demo.example", "--database-url", url]) == 0
    listing = capsys.readouterr().out  # type: ignore[attr-defined]
    assert f"{prefix}\tactive\tLab feed" in listing and secret not in listing
    assert main(["tokens", "revoke", prefix, "--database-url", url]) == 0
    again = api.client.get("/api/v1/products", headers={"Authorization": f"Bearer {secret}"})
    assert again.status_code == 401
    nobody = ["tokens", "create", "--email", "nobody@x", "--name", "a"]
    assert main([*nobody, "--database-url", url]) == 2


def test_guessing_tokens_is_throttled_like_guessing_passwords(api: ApiWorld) -> None:
    guess = {"Authorization": "Bearer pa_0123456789ab_guess"}
    statuses = [api.client.get("/api/v1/cases", headers=guess).status_code for _ in range(11)]
    # Ten failures for one token prefix, then a pause (store/throttle.py counts them).
    assert statuses == [401] * 10 + [429]
    paused = api.client.get("/api/v1/cases", headers=guess)
    assert paused.headers["Retry-After"] == "900"
    # A real token from the same address still works: the address limit is higher.
    assert api.call("billing", "GET", "/api/v1/cases").status_code == 200
