"""Scaling out: two real gunicorn servers on two loopback ports, over one
PostgreSQL database and one Redis, behave as one service. A sign-in made on
one works on the other, and a sign-out on one ends it on the other; failed
sign-ins on both count against one limit; an ETag read on one is stale on the
other once the referral has changed; and concurrent writes on both leave one
whole, gap-free audit chain.

The servers run the development configuration with the secrets an operator
gives every host (SECRET_KEY, AUDIT_HMAC_KEY), DATABASE_URL and REDIS_URL from
the environment, and the test's limits passed to the app factory. Without
PostgreSQL these tests are skipped, and without Redis the throttling test is;
under CI=true either is a failure.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlencode

import pyotp
import pytest

from referral_app.extensions import db
from referral_app.models import OrganisationKind, Role
from tests.conftest import fresh_postgres_database, migrated_app
from tests.factories import Factory, OrgInfo, UserInfo
from tests.referral_helpers import referral_body

REPO_ROOT = Path(__file__).resolve().parents[1]
# What every host of one deployment shares, beside the database and Redis.
SECRET_KEY = "two-processes-secret-key"
AUDIT_HMAC_KEY = "two-processes-audit-key"
STARTUP_TIMEOUT = 30.0
REQUEST_TIMEOUT = 30.0
ACCOUNT_LIMIT = 3  # failed sign-ins per account, in SIGN_IN_LIMIT_PER_ACCOUNT
ADDRESS_LIMIT = 5  # failed sign-ins per client address, in SIGN_IN_LIMIT_PER_ADDRESS
CONCURRENT_REQUESTS = 80
THREADS = 12


def _fail_or_skip(message: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (needed under CI)")
    pytest.skip(message)


# --- One PostgreSQL database and one Redis for the module --------------------


@pytest.fixture(scope="module")
def shared_postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for the whole module (the servers start
    once), with conftest's skip-or-fail rule."""
    with fresh_postgres_database() as url:
        yield url


@dataclass(frozen=True)
class SharedRedis:
    url: str | None  # None: unreachable outside CI (the throttling test skips)
    problem: str
    key_prefix: str


@pytest.fixture(scope="module")
def shared_redis() -> Iterator[SharedRedis]:
    """A Redis database of its own (TEST_TWO_PROCESSES_REDIS_URL, db 14 by
    default). The limiter's keys carry a prefix unique to this run, deleted
    before and after, so a concurrent run over the same Redis is untouched."""
    import redis

    url = os.environ.get("TEST_TWO_PROCESSES_REDIS_URL", "redis://127.0.0.1:6379/14")
    prefix = f"two-processes-{uuid.uuid4().hex}"
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as error:
        client.close()
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is needed and unreachable under CI: {error}")
        yield SharedRedis(None, f"Redis unreachable: {error}", prefix)
        return

    def delete_ours() -> None:
        for key in client.scan_iter(f"*{prefix}*"):
            client.delete(key)

    delete_ours()
    try:
        yield SharedRedis(url, "", prefix)
    finally:
        delete_ours()
        client.close()


# --- The people ------------------------------------------------------------


@dataclass(frozen=True)
class People:
    police: OrgInfo
    yjs: OrgInfo
    session_user: UserInfo  # the session tests only
    throttled_user: UserInfo  # the throttling test only
    bystander: UserInfo  # the throttling test only
    lock_officer: UserInfo  # the optimistic-lock test only
    officer: UserInfo  # the audit-chain test
    police_manager: UserInfo  # the audit-chain test
    totp_user: UserInfo  # the one-time code test
    failing_user: UserInfo  # the lost-update test
    proxied_user: UserInfo  # the proxy test


@pytest.fixture(scope="module")
def people(shared_postgres_url: str) -> People:
    """Migrate the database and make the people, with the servers' audit key
    (the factory's writes are audited too, and the chain must verify)."""
    setup = migrated_app(shared_postgres_url, AUDIT_HMAC_KEY=AUDIT_HMAC_KEY)
    try:
        factory = Factory(setup)
        police = factory.organisation(OrganisationKind.POLICE)
        yjs = factory.organisation(OrganisationKind.YOUTH_JUSTICE)
        return People(
            police=police,
            yjs=yjs,
            session_user=factory.user(Role.REFERRER, organisation=police),
            throttled_user=factory.user(Role.REFERRER, organisation=police),
            bystander=factory.user(Role.REFERRER, organisation=police),
            lock_officer=factory.user(Role.REFERRER, organisation=police),
            officer=factory.user(Role.REFERRER, organisation=police),
            police_manager=factory.user(Role.MANAGER, organisation=police),
            totp_user=factory.user(
                Role.REFERRER, organisation=police, totp_secret=pyotp.random_base32()
            ),
            failing_user=factory.user(Role.REFERRER, organisation=police),
            proxied_user=factory.user(Role.REFERRER, organisation=police),
        )
    finally:
        with setup.app_context():
            db.session.remove()
            db.engine.dispose()


# --- Two servers -------------------------------------------------------------


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class Servers:
    a: Server
    b: Server
    database_url: str
    redis: SharedRedis


def app_factory_call(redis: SharedRedis) -> str:
    """`referral_app:create_app(...)` with the settings the environment cannot
    give (gunicorn evaluates literal arguments)."""
    overrides: dict[str, object] = {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_KEY_PREFIX": redis.key_prefix,
        "SIGN_IN_LIMIT_PER_ACCOUNT": f"{ACCOUNT_LIMIT} per 15 minutes",
        "SIGN_IN_LIMIT_PER_ADDRESS": f"{ADDRESS_LIMIT} per 15 minutes",
        "LOGIN_MAX_FAILURES": 1000,  # keep the account lockout out of the way
        # Behind one proxy: the client is the last X-Forwarded-For entry
        # (requests without the header are the proxy's own, 127.0.0.1).
        "TRUSTED_PROXY_HOPS": 1,
    }
    arguments = ", ".join(f"{key}={value!r}" for key, value in overrides.items())
    return f"referral_app:create_app({arguments})"


def server_environment(database_url: str, redis: SharedRedis) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "QUERY_COUNT_HEADER", "FLASK_APP")
    }
    environment.update(
        APP_ENV="development",
        DATABASE_URL=database_url,
        SECRET_KEY=SECRET_KEY,
        AUDIT_HMAC_KEY=AUDIT_HMAC_KEY,
        PYTHONUNBUFFERED="1",
    )
    if redis.url:
        environment["REDIS_URL"] = redis.url
    return environment


def gunicorn_quiet_options() -> list[str]:
    """Newer gunicorn (27 here) opens a control socket at one fixed path per user
    (~/.gunicorn/gunicorn.ctl), which two servers would fight over: none."""
    from gunicorn.config import KNOWN_SETTINGS

    names = {setting.name for setting in KNOWN_SETTINGS}
    return ["--no-control-socket"] if "control_socket_disable" in names else []


def start_server(name: str, environment: dict[str, str], factory_call: str, log: Path) -> Server:
    """gunicorn with two workers on a loopback port the test bound and hands
    over (fd://), so no other process can take the port in between."""
    with socket.socket() as listener, log.open("wb") as output:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        port = int(listener.getsockname()[1])
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "2",
                "--bind",
                f"fd://{listener.fileno()}",
                "--graceful-timeout",
                "5",
                *gunicorn_quiet_options(),
                factory_call,
            ],
            cwd=REPO_ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            pass_fds=(listener.fileno(),),
            start_new_session=True,
        )
    return Server(name, port, process, log)


def wait_until_healthy(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(
                f"server {server.name} exited with {server.process.returncode}:\n"
                + server.log.read_text(errors="replace")[-4000:]
            )
        try:
            if call(server, "GET", "/healthz", timeout=2).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(
        f"server {server.name} not healthy after {STARTUP_TIMEOUT} s:\n"
        + server.log.read_text(errors="replace")[-4000:]
    )


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            # The arbiter did not stop: kill its whole process group (its workers).
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=10)


@pytest.fixture(scope="module")
def servers(
    shared_postgres_url: str,
    shared_redis: SharedRedis,
    people: People,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Servers]:
    logs = tmp_path_factory.mktemp("two-processes")
    environment = server_environment(shared_postgres_url, shared_redis)
    factory_call = app_factory_call(shared_redis)
    started: list[Server] = []
    try:
        for name in ("A", "B"):
            started.append(start_server(name, environment, factory_call, logs / f"{name}.log"))
        for server in started:
            wait_until_healthy(server)
        yield Servers(started[0], started[1], shared_postgres_url, shared_redis)
    finally:
        for server in started:
            stop_server(server)


# --- HTTP, by hand (cookies are carried explicitly from one server to the other)


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()

    def cookies(self) -> dict[str, str]:
        jar: SimpleCookie = SimpleCookie()
        for header in self.headers.get_all("Set-Cookie") or []:
            jar.load(header)
        return {name: morsel.value for name, morsel in jar.items()}


def call(
    server: Server,
    method: str,
    path: str,
    *,
    json_body: object = None,
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    cookies: dict[str, str] | None = None,
    timeout: float = REQUEST_TIMEOUT,
) -> Answer:
    """One request on a connection of its own (safe from many threads); no
    redirects followed."""
    sent = dict(headers or {})
    body: bytes | None = None
    if json_body is not None:
        body = json.dumps(json_body).encode()
        sent["Content-Type"] = "application/json"
    elif form is not None:
        body = urlencode(form).encode()
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    if cookies:
        sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sign_in(server: Server, user: UserInfo) -> str:
    answer = call(
        server,
        "POST",
        "/api/v1/auth/tokens",
        json_body={"email": user.email, "password": user.password},
    )
    assert answer.status == 201, (server.name, answer.status, answer.body)
    return str(answer.json["token"])


CSRF_PATTERN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_form(server: Server, path: str, cookies: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The CSRF token of the form on `path`, and the cookies after reading it."""
    page = call(server, "GET", path, cookies=cookies)
    assert page.status == 200, (server.name, path, page.status)
    match = CSRF_PATTERN.search(page.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1), {**cookies, **page.cookies()}


# --- 1. A session ------------------------------------------------------------


def test_a_token_from_one_server_works_on_the_other_until_revoked(servers, people):
    a, b = servers.a, servers.b
    user = people.session_user
    token = sign_in(a, user)

    me = call(b, "GET", "/api/v1/me", headers=bearer(token))
    assert me.status == 200, me.body
    assert me.json["email"] == user.email

    assert call(a, "DELETE", "/api/v1/auth/tokens/current", headers=bearer(token)).status == 204
    refused = call(b, "GET", "/api/v1/me", headers=bearer(token))
    assert refused.status == 401, refused.body
    assert call(a, "GET", "/api/v1/me", headers=bearer(token)).status == 401


def test_a_browser_session_from_one_server_works_on_the_other_until_signed_out(servers, people):
    a, b = servers.a, servers.b
    user = people.session_user
    # Without a session, the account page sends the browser to sign in.
    assert call(b, "GET", "/account").status == 302

    token, cookies = csrf_form(a, "/login", {})
    signed_in = call(
        a,
        "POST",
        "/login",
        form={"csrf_token": token, "email": user.email, "password": user.password},
        cookies=cookies,
    )
    assert signed_in.status == 302, signed_in.body
    session_cookies = {**cookies, **signed_in.cookies()}

    account = call(b, "GET", "/account", cookies=session_cookies)
    assert account.status == 200, (account.status, account.headers.get("Location"))
    assert user.email in account.text.replace("<wbr>", "")  # break points for phones

    # Sign out on B (with B's form), then the copied cookie is refused on A.
    token, after_form = csrf_form(b, "/account", session_cookies)
    signed_out = call(b, "POST", "/logout", form={"csrf_token": token}, cookies=after_form)
    assert signed_out.status == 302, signed_out.body
    refused = call(a, "GET", "/account", cookies=session_cookies)
    assert refused.status == 302
    assert "/login" in (refused.headers.get("Location") or "")


# --- 2. A rate limit ---------------------------------------------------------


def test_failed_sign_ins_on_both_servers_count_against_one_limit(servers, people):
    if servers.redis.url is None:
        pytest.skip(servers.redis.problem)
    a, b = servers.a, servers.b
    user = people.throttled_user
    wrong = {"email": user.email, "password": "wrong guess!"}
    right = {"email": user.email, "password": user.password}

    # A, B, A: three failures, split between the servers.
    for server in (a, b, a)[:ACCOUNT_LIMIT]:
        answer = call(server, "POST", "/api/v1/auth/tokens", json_body=wrong)
        assert answer.status == 401, (server.name, answer.status, answer.body)

    # Now refused on either server, even with the right password...
    for server in (b, a):
        answer = call(server, "POST", "/api/v1/auth/tokens", json_body=right)
        assert answer.status == 429, (server.name, answer.status, answer.body)
        assert answer.json["code"] == "too_many_requests"
    # ...and on the login page too.
    token, cookies = csrf_form(b, "/login", {})
    page = call(b, "POST", "/login", form={"csrf_token": token, **right}, cookies=cookies)
    assert page.status == 429
    # The limit is the account's, not everybody's.
    sign_in(b, people.bystander)


def test_rejects_a_totp_code_used_at_the_same_moment_on_another_server(servers, people):
    """The same current code sent 12 times at once, to four workers on two
    hosts: one sign-in, never more (the time step is claimed atomically)."""
    user = people.totp_user
    assert user.totp_secret is not None
    code = pyotp.TOTP(user.totp_secret).now()
    body = {"email": user.email, "password": user.password, "otp": code}

    def attempt(n: int) -> int:
        server = servers.a if n % 2 else servers.b
        headers = {"X-Forwarded-For": f"198.18.0.{n}"}  # one client each
        return call(server, "POST", "/api/v1/auth/tokens", json_body=body, headers=headers).status

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(attempt, range(12)))
    assert statuses.count(201) == 1, statuses
    assert set(statuses) <= {201, 401, 429}, statuses


def test_parallel_wrong_passwords_on_both_servers_lose_no_failure(servers, people):
    """64 wrong passwords at once, over four workers on two hosts, each from
    a client of its own: every one the app checked (a 401) is counted on the
    account, none lost to a concurrent update."""
    import psycopg
    from sqlalchemy.engine import make_url

    user = people.failing_user
    body = {"email": user.email, "password": "wrong guess, again!"}

    def attempt(n: int) -> int:
        server = servers.a if n % 2 else servers.b
        headers = {"X-Forwarded-For": f"198.19.{n // 250}.{n % 250}"}
        return call(server, "POST", "/api/v1/auth/tokens", json_body=body, headers=headers).status

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        statuses = list(pool.map(attempt, range(64)))
    assert set(statuses) <= {401, 429}, statuses
    url = make_url(servers.database_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False)) as connection:
        counted = connection.execute(
            "SELECT failed_login_count FROM user_account WHERE id = %s", (user.id,)
        ).fetchone()[0]
    assert counted == statuses.count(401) > 0, (counted, statuses.count(401))


def test_login_throttle_behind_a_proxy_is_per_client_on_both_servers(servers, people):
    """Every request reaches both servers from the proxy (127.0.0.1): the
    per-address limit counts the client in X-Forwarded-For, across the
    servers, so one spraying client is stopped and another is not."""
    if servers.redis.url is None:
        pytest.skip(servers.redis.problem)
    sprayer = {"X-Forwarded-For": "203.0.113.9"}
    for n in range(ADDRESS_LIMIT):
        server = servers.a if n % 2 else servers.b
        wrong = {"email": f"nobody-{n}@example.org", "password": "wrong guess!"}
        answer = call(server, "POST", "/api/v1/auth/tokens", json_body=wrong, headers=sprayer)
        assert answer.status == 401, (n, answer.status)
    right = {"email": people.proxied_user.email, "password": people.proxied_user.password}
    for server in (servers.a, servers.b):
        stopped = call(server, "POST", "/api/v1/auth/tokens", json_body=right, headers=sprayer)
        assert stopped.status == 429, server.name
    someone_else = {"X-Forwarded-For": "198.51.100.4"}
    answer = call(servers.b, "POST", "/api/v1/auth/tokens", json_body=right, headers=someone_else)
    assert answer.status == 201


# --- 3. An optimistic lock ---------------------------------------------------


def test_an_etag_read_on_one_server_is_stale_on_the_other_after_a_change(servers, people):
    a, b = servers.a, servers.b
    headers = bearer(sign_in(a, people.lock_officer))
    created = call(
        a, "POST", "/api/v1/referrals", json_body=referral_body(people.yjs), headers=headers
    )
    assert created.status == 201, created.body
    url = f"/api/v1/referrals/{created.json['id']}"

    read = call(a, "GET", url, headers=headers)
    assert read.status == 200
    old_etag = read.headers["ETag"]
    version = read.json["version"]

    on_a = call(
        a,
        "PATCH",
        url,
        json_body={"reason": "Changed on A."},
        headers={**headers, "If-Match": old_etag},
    )
    assert on_a.status == 200, on_a.body
    new_etag = on_a.headers["ETag"]
    assert new_etag != old_etag

    stale_on_b = call(
        b,
        "PATCH",
        url,
        json_body={"reason": "Lost on B."},
        headers={**headers, "If-Match": old_etag},
    )
    assert stale_on_b.status == 412, stale_on_b.body

    stored = call(b, "GET", url, headers=headers)
    assert stored.status == 200
    assert stored.json["reason"] == "Changed on A."
    assert stored.json["version"] == version + 1
    assert stored.headers["ETag"] == new_etag

    # B takes the current tag: the refusal was staleness, not the server.
    fresh_on_b = call(
        b,
        "PATCH",
        url,
        json_body={"reason": "Changed on B."},
        headers={**headers, "If-Match": new_etag},
    )
    assert fresh_on_b.status == 200, fresh_on_b.body
    assert call(a, "GET", url, headers=headers).json["reason"] == "Changed on B."


# --- 4. The audit chain ------------------------------------------------------


def test_concurrent_writes_on_both_servers_leave_one_whole_audit_chain(servers, people):
    import psycopg
    from sqlalchemy.engine import make_url

    a, b = servers.a, servers.b
    tokens = {
        "officer": bearer(sign_in(a, people.officer)),
        "manager": bearer(sign_in(b, people.police_manager)),
    }
    first = call(
        b,
        "POST",
        "/api/v1/referrals",
        json_body=referral_body(people.yjs),
        headers=tokens["officer"],
    )
    assert first.status == 201, first.body
    detail = f"/api/v1/referrals/{first.json['id']}"

    def one_request(n: int) -> tuple[str, int, str]:
        server = (a, b)[n % 2]
        headers = tokens[("officer", "manager")[(n // 2) % 2]]
        if n % 3 == 0:
            body = referral_body(people.yjs, reason=f"Concurrent referral {n}.")
            answer = call(server, "POST", "/api/v1/referrals", json_body=body, headers=headers)
        else:
            answer = call(server, "GET", detail, headers=headers)
        return server.name, answer.status, answer.headers.get("X-Request-ID", "")

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(one_request, range(CONCURRENT_REQUESTS)))

    assert {status for _, status, _ in results} <= {200, 201}, results
    request_ids = {name: {rid for server, _, rid in results if server == name} for name in "AB"}
    assert all(len(ids) == CONCURRENT_REQUESTS // 2 for ids in request_ids.values()), request_ids

    # The servers write their events unsealed; the sequencer (one pass of
    # it, as `flask audit seal --watch` would make) seals them into one chain.
    environment = server_environment(servers.database_url, servers.redis)
    sealed = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "referral_app", "audit", "seal"],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert sealed.returncode == 0, sealed.stdout + sealed.stderr
    assert re.search(r"sealed \d+ events", sealed.stdout), sealed.stdout

    dsn = make_url(servers.database_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(dsn) as connection:
        count, lowest, highest, distinct = connection.execute(
            "SELECT count(*), min(seq), max(seq), count(DISTINCT seq) FROM audit_event"
        ).fetchone()
        audited = {
            row[0]
            for row in connection.execute(
                "SELECT DISTINCT request_id FROM audit_event WHERE request_id IS NOT NULL"
            )
        }
    assert (lowest, highest, distinct) == (1, count, count)  # gap-free 1..N
    assert count > CONCURRENT_REQUESTS
    for name, ids in request_ids.items():
        assert ids <= audited, f"requests to {name} missing from the trail: {ids - audited}"

    verified = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "referral_app", "audit", "verify"],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    checked = re.search(r"checked (\d+) events: ok", verified.stdout)
    assert checked, verified.stdout
    assert int(checked.group(1)) >= count
