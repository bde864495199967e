"""The benchmark: the app under gunicorn over generated data, loaded by wrk,
beside a bare reference app doing the same database work.

    .venv/bin/python bench/run.py --database sqlite --referrals 10000
    .venv/bin/python bench/run.py --database postgresql --referrals 1000000
    .venv/bin/python bench/run.py --database postgresql --hosts 2      # two app servers
    .venv/bin/python bench/run.py --database postgresql --statements   # what each request sends
    .venv/bin/python bench/run.py --database postgresql --product-rev 74952b9 --only list,home

Scenarios: /healthz, the API list, detail, create, transition and name
search, the web home page and the web /referrals list (with a browser
session signed in through the form), and a write-only run of creates from
`--writers` connections at once (audited transactions per second: the
audit chain's lock caps it when it is held across the commit).

On PostgreSQL, bench/reference.py (Flask + psycopg, the product's own
statements and audit write, nothing else) is served under gunicorn too, on
its own port with the same workers, and the list, detail, create and
writers scenarios run against it as well, next to the product's in the
same run: each scenario is reported as a ratio to the product's /healthz
and to the reference.

For each scenario: requests per second, p50 and p99 latency, the round
trips one request makes counted at the database (PostgreSQL: the lines
`log_statement = 'all'` writes for that request, on a first pass of servers
started with it set for the benchmark's database, before the timed pass;
SQLite: the app's X-Query-Count header), and the CPU spent per request by
the app's gunicorn workers and by PostgreSQL's processes (from
/proc/<pid>/stat, before and after the scenario), and how many cores
something else kept busy meanwhile (another session's tests share this
machine: each scenario first waits for an idle machine, --quiet-wait, and
is measured again when disturbed, --retries). `--hosts 2` runs two
gunicorn masters on one database (the workers split between them), with one
wrk per host at once and the throughput summed. Results are appended to
bench/RESULTS.md. Traffic goes to 127.0.0.1 only; every wrk run is bounded
in time.
"""

from __future__ import annotations

import argparse
import atexit
import glob
import http.cookiejar
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
# The product's first host (--port); further hosts take the next ports, and
# the reference's hosts the ports from 10 above.
PORT = 8765
PASSWORD = "bench-password-2026"
MANAGER = "manager0@bench-0001.example"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# The scenarios the reference serves too (reference.py: list, detail, create).
REFERENCE_SCENARIOS = ("list", "detail", "create", "writers")
# Cores busy with something other than the benchmark above which a
# scenario's measurement is taken again (--retries).
BUSY_ELSEWHERE = 0.25


def sh(
    *args: str, env: dict[str, str] | None = None, check: bool = True, cwd: Path | None = None
) -> str:
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False, cwd=cwd)
    if check and result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def psql(database: str, sql: str, check: bool = True) -> str:
    return sh(
        "psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-qAtc", sql, check=check
    )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_: Any) -> None:
        return None  # a redirect is the answer (a lapsed session's is to /login)


_OPENER = urllib.request.build_opener(_NoRedirect)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


def request(
    base: str,
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: object = None,
    cookie: str | None = None,
) -> Answer:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if cookie:
        req.add_header("Cookie", cookie)
    try:
        with _OPENER.open(req, timeout=30) as response:
            raw = response.read()
            kind = response.headers.get("Content-Type", "")
            parsed = json.loads(raw) if raw and kind.startswith("application/json") else raw
            return Answer(response.status, dict(response.headers), parsed)
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), None)


def browser_session(base: str, email: str) -> str:
    """Sign in through the web form as a person would; the Cookie header it leaves."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login", timeout=30).read().decode()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    form = {"email": email, "password": PASSWORD, "otp": ""}
    if csrf:
        form["csrf_token"] = csrf.group(1)
    opener.open(
        urllib.request.Request(
            base + "/login", data=urllib.parse.urlencode(form).encode(), method="POST"
        ),
        timeout=30,
    ).read()
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    if not cookie:
        sys.exit("Signing in through the web form left no session cookie.")
    return cookie


def database_url(kind: str, referrals: int) -> str:
    if kind == "sqlite":
        folder = Path(tempfile.gettempdir()) / "referral-bench"
        folder.mkdir(exist_ok=True)
        return f"sqlite:///{folder}/bench-{referrals}.db"
    return f"postgresql://postgres@127.0.0.1:5432/referral_bench_{referrals}"


def database_name(url: str) -> str:
    return url.rsplit("/", 1)[1]


def prepare(
    kind: str, referrals: int, organisations: int, env: dict[str, str], tree: Path
) -> float:
    """A fresh database with the generated data; returns the seconds bench-seed took."""
    url = env["DATABASE_URL"]
    if kind == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    else:
        name = database_name(url)
        assert name.startswith("referral_bench_")
        psql("postgres", f"DROP DATABASE IF EXISTS {name}")
        psql("postgres", f"CREATE DATABASE {name}")
    flask = [str(VENV / "flask"), "--app", "referral_app"]
    sh(*flask, "db", "upgrade", env=env, cwd=tree)
    started = time.perf_counter()
    out = sh(
        *flask,
        "bench-seed",
        "--referrals",
        str(referrals),
        "--organisations",
        str(organisations),
        env=env,
        cwd=tree,
    )
    seconds = time.perf_counter() - started
    print(out.strip())
    if kind == "postgresql":
        # Statistics, and the visibility map that lets counts read the
        # indexes alone (what autovacuum does in time on a live server).
        psql(database_name(url), "VACUUM ANALYZE")
    return seconds


# --- servers -------------------------------------------------------------------


@dataclass
class Server:
    """One gunicorn master (an app host) and its workers."""

    label: str
    port: int
    app: str
    workers: int
    env: dict[str, str]
    cwd: Path
    extra: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                sys.exit(
                    f"Port {self.port} is taken (another benchmark running?): "
                    "wait for it, or choose other ports with --port."
                )
        command = [str(VENV / "gunicorn"), "--workers", str(self.workers)]
        if "--no-control-socket" in sh(str(VENV / "gunicorn"), "--help"):
            command.append("--no-control-socket")  # gunicorn 25+: one per host otherwise
        self.process = subprocess.Popen(
            [
                *command,
                *self.extra,
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                self.app,
            ],
            env=self.env,
            cwd=self.cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def wait_ready(self) -> None:
        for _ in range(120):
            try:
                if request(self.base, "GET", "/healthz").status == 200:
                    return
            except OSError:
                pass
            if self.process is not None and self.process.poll() is not None:
                sys.exit(f"{self.label} on port {self.port} exited at start")
            time.sleep(0.5)
        sys.exit(f"{self.label} on port {self.port} did not answer /healthz")

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        return [int(pid) for pid in sh("pgrep", "-P", str(self.process.pid), check=False).split()]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@dataclass
class Stack:
    """The product's hosts, the reference's hosts (PostgreSQL only) and the
    product's audit sequencer process, when it has one."""

    product: list[Server]
    reference: list[Server]
    sequencer_command: list[str] | None
    env: dict[str, str]
    tree: Path
    sequencer: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        for server in (*self.product, *self.reference):
            server.start()
        if self.sequencer_command:
            self.sequencer = subprocess.Popen(
                self.sequencer_command,
                env=self.env,
                cwd=self.tree,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        for server in (*self.product, *self.reference):
            server.wait_ready()

    def stop(self) -> None:
        for server in (*self.product, *self.reference):
            server.stop()
        if self.sequencer is not None and self.sequencer.poll() is None:
            self.sequencer.send_signal(signal.SIGTERM)
            try:
                self.sequencer.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.sequencer.kill()
                self.sequencer.wait()
        self.sequencer = None

    def app_pids(self, which: str) -> list[int]:
        """The workers of the product's or the reference's hosts, and the
        sequencer, which seals the events of whichever is being measured."""
        servers = self.reference if which == "reference" else self.product
        pids = [pid for server in servers for pid in server.worker_pids()]
        if self.sequencer is not None and self.sequencer.poll() is None:
            pids.append(self.sequencer.pid)
        return pids


def sequencer_command(env: dict[str, str], tree: Path) -> list[str] | None:
    """`flask audit seal --watch` when the product has it (the audit sequencer
    that seals events written unsealed), else None."""
    flask = [str(VENV / "flask"), "--app", "referral_app"]
    helptext = sh(*flask, "audit", "seal", "--help", env=env, check=False, cwd=tree)
    return [*flask, "audit", "seal", "--watch"] if "--watch" in helptext else None


# --- CPU -----------------------------------------------------------------------


def cpu_times(pids: list[int]) -> dict[int, float]:
    """User and system CPU seconds each process has used so far."""
    times = {}
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        times[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
    return times


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two samples by the processes alive at the
    second (one that started in between counts from zero; one that ended in
    between is lost, which the pools' long-lived connections make rare)."""
    return sum(used - before.get(pid, 0.0) for pid, used in after.items())


def postgres_pids(database: str | None) -> list[int]:
    """The PostgreSQL processes that work for the benchmark: the backends
    connected to its database, and the server's WAL writer, background
    writer and checkpointer (not other databases' backends: another
    session's tests may be running)."""
    if database is None:
        return []
    out = psql(
        database,
        "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND ("
        "datname = current_database() "
        "OR backend_type IN ('walwriter', 'background writer', 'checkpointer'))",
        check=False,
    )
    return [int(pid) for pid in out.split()]


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all cores), from /proc/stat."""
    fields = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    return (user + nice + system + irq + softirq) / CLOCK_TICKS


def children_cpu() -> float:
    """CPU seconds of this script's finished child processes (wrk, psql)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wait_for_quiet(limit: float, threshold: float = 0.25) -> float:
    """Wait (at most `limit` seconds) for a second in which the machine is
    busy with less than `threshold` of a core, our servers being idle by
    then: another session's tests on the same two cores would otherwise be
    measured as the app's slowness. Returns the cores busy in the last second."""
    deadline = time.monotonic() + limit
    while True:
        before = machine_busy()
        time.sleep(1)
        busy = machine_busy() - before
        if busy < threshold or time.monotonic() >= deadline:
            return busy


def settle(pids: list[int], limit: float = 10.0) -> None:
    """Wait until the processes are idle: wrk stops at its deadline, but the
    requests it left queued at the servers are still served, and would
    otherwise be counted against the next scenario."""
    deadline = time.monotonic() + limit
    before = cpu_times(pids)
    while time.monotonic() < deadline:
        time.sleep(0.25)
        after = cpu_times(pids)
        if cpu_spent(before, after) < 0.02:
            return
        before = after


def worker_rss_mb(pids: list[int]) -> float:
    sizes = []
    for pid in pids:
        status = Path(f"/proc/{pid}/status")
        if status.exists():
            match = re.search(r"VmRSS:\s+(\d+) kB", status.read_text())
            if match:
                sizes.append(int(match.group(1)) / 1024)
    return max(sizes) if sizes else 0.0


# --- round trips, counted at the database ---------------------------------------

_ENTRY = re.compile(r"^\d{4}-\d\d-\d\d \S+ \S+ \[(\d+)\] (\S*) (LOG|DETAIL|STATEMENT|ERROR):  ")
_STATEMENT = re.compile(r"^(?:statement|execute [^:]*): ", re.S)


class StatementLog:
    """The statements PostgreSQL logs for the benchmark's database while
    `log_statement = 'all'` is set on it (ALTER DATABASE: only connections
    made after it log, so the servers are started after it and stopped
    before the timed pass). No server restart, no extension."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.path = self._find()

    @staticmethod
    def _find() -> Path | None:
        where = psql("postgres", "SELECT pg_current_logfile()", check=False).strip()
        candidates = [Path(where)] if where else []
        candidates += sorted(
            (Path(p) for p in glob.glob("/var/log/postgresql/postgresql-*.log")),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for path in candidates:
            if path.is_file() and os.access(path, os.R_OK):
                return path
        return None

    def enable(self) -> None:
        psql("postgres", f"ALTER DATABASE {self.database} SET log_statement = 'all'")

    def disable(self) -> None:
        psql("postgres", f"ALTER DATABASE {self.database} RESET log_statement", check=False)

    def _mark(self) -> str:
        marker = f"bench-mark-{uuid.uuid4().hex}"
        psql(self.database, f"SELECT '{marker}'")
        return marker

    def _entries(self, start: int, marker: str) -> list[tuple[int, str, str]]:
        """(pid, kind, text) of each log entry from `start` to the marker."""
        assert self.path is not None
        deadline = time.monotonic() + 5
        while True:
            with open(self.path, encoding="utf-8", errors="replace") as handle:
                handle.seek(start)
                text = handle.read()
            if marker in text or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        entries: list[tuple[int, str, str]] = []
        for line in text.split("\n"):
            found = _ENTRY.match(line)
            if found:
                entries.append((int(found.group(1)), found.group(3), line[found.end() :]))
            elif entries and line.startswith("\t"):
                pid, kind, body = entries[-1]
                entries[-1] = (pid, kind, body + "\n" + line[1:])
        return entries

    def count(self, send: Callable[[], Answer]) -> tuple[str, list[str], Answer]:
        """Send one request; what the database ran for it, as "statements" or
        "statements (round trips)" when they differ, and the statements' text.
        Each `statement:` or `execute` line is a statement; a run of the same
        statement executed again and again (an executemany, which psycopg
        sends as one pipeline) is one round trip."""
        if self.path is None:
            return "?", [], send()
        self._mark()
        start = self.path.stat().st_size
        answer = send()
        closing = self._mark()
        entries = self._entries(start, closing)
        markers = {pid for pid, _, body in entries if "bench-mark-" in body}
        request_id = answer.headers.get("X-Request-ID", "")
        # The backend that served it: the one whose audit insert carries the
        # request id, when there are others (the sequencer) in the window.
        pids = {pid for pid, kind, _ in entries if kind == "LOG"} - markers
        if len(pids) > 1 and request_id:
            carrying = {pid for pid, _, body in entries if request_id in body}
            pids = carrying or pids
        executed = [
            body
            for pid, kind, body in entries
            if kind == "LOG" and pid in pids and _STATEMENT.match(body)
        ]
        round_trips = sum(
            1
            for n, body in enumerate(executed)
            if n == 0 or not (body.startswith("execute") and body == executed[n - 1])
        )
        statements = [body.split(": ", 1)[1] for body in executed]
        shown = str(len(statements))
        if round_trips != len(statements):
            shown += f" ({round_trips})"
        return shown, statements, answer


# --- wrk -----------------------------------------------------------------------


def lua_script(headers: dict[str, str], method: str, paths: list[str], body: str | None) -> str:
    quoted = ",".join(json.dumps(p) for p in paths)
    lines = [f'wrk.method = "{method}"']
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    if body:
        lines.append(f"wrk.body = {json.dumps(body)}")
    return (
        "\n".join(lines)
        + f"""
local paths = {{{quoted}}}
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, paths[(n % #paths) + 1])
end
"""
    )


def _ms(out: str, label: str) -> float:
    match = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out)
    if match is None:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def run_wrk(
    script: str, bases: list[str], path: str, seconds: int, connections: int
) -> dict[str, float]:
    """wrk against each base at once (one process per host, the connections
    shared between them); throughput and requests summed, p50 the mean and
    p99 the worst of the hosts'."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    per_host = max(1, connections // len(bases))
    threads = max(1, min(2 // len(bases), per_host)) if len(bases) > 1 else min(2, per_host)
    processes = [
        subprocess.Popen(
            [
                "wrk",
                f"-t{threads}",
                f"-c{per_host}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "--latency",
                "-s",
                handle.name,
                base + path,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for base in bases
    ]
    outs = [process.communicate(timeout=seconds + 60)[0] for process in processes]
    os.unlink(handle.name)
    result = {"rps": 0.0, "requests": 0.0, "non_2xx": 0.0, "p50": 0.0, "p99": 0.0}
    for out in outs:
        rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
        if rps is None:
            sys.exit(f"wrk failed:\n{out}")
        result["rps"] += float(rps.group(1))
        done = re.search(r"(\d+) requests in", out)
        result["requests"] += float(done.group(1)) if done else 0.0
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        result["non_2xx"] += float(errors.group(1)) if errors else 0.0
        failed = re.search(
            r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
        )
        if failed:
            result["non_2xx"] += sum(float(n) for n in failed.groups())
        result["p50"] += _ms(out, "50") / len(outs)
        result["p99"] = max(result["p99"], _ms(out, "99"))
    return result


# --- the run -------------------------------------------------------------------


@dataclass
class Scenario:
    name: str
    method: str
    paths: list[str]
    body: str | None
    web: bool = False
    connections: int | None = None  # the run's --connections unless set


def audit_events(url: str) -> int | None:
    """How many audit events the database holds (for the writers' events/s)."""
    try:
        if url.startswith("sqlite:///"):
            with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
                return int(conn.execute("SELECT count(*) FROM audit_event").fetchone()[0])
        out = psql(database_name(url), "SELECT count(*) FROM audit_event", check=False)
        return int(out.strip()) if out.strip() else None
    except (sqlite3.Error, ValueError):
        return None


def discover(base: str, token: str, connections_for_writers: int) -> list[Scenario]:
    """The scenarios, with ids and bodies read through the API as a client would."""
    incoming = request(
        base, "GET", "/api/v1/referrals?direction=incoming&page_size=25", token=token
    )
    ids = [r["id"] for r in incoming.body or []] or ["00000000-0000-4000-8000-000000000000"]
    working = (
        request(
            base,
            "GET",
            "/api/v1/referrals?direction=incoming&status=in_progress&page_size=100",
            token=token,
        ).body
        or []
    )
    me = request(base, "GET", "/api/v1/me", token=token).body
    orgs = request(base, "GET", "/api/v1/organisations?page_size=5", token=token).body
    other = next(o["id"] for o in orgs if o["id"] != me["organisation"]["id"])
    staff = (
        request(base, "GET", f"/api/v1/referrals/{working[0]['id']}", token=token).body
        if working
        else None
    )
    assignee = (staff or {}).get("assignee", {}) or {}
    create_body = json.dumps(
        {
            "child": {"first_name": "Bench", "last_name": "Child", "date_of_birth": "2012-05-01"},
            "receiving_organisation_id": other,
            "reason": "Benchmark.",
            "risk_level": "low",
            "consent_status": "obtained_from_parent",
            "lawful_basis": "public_task",
        }
    )
    transition_body = json.dumps({"action": "assign", "assignee_id": assignee.get("id", me["id"])})
    scenarios = [
        Scenario("healthz", "GET", ["/healthz"], None),
        Scenario("list", "GET", ["/api/v1/referrals?direction=incoming&page_size=25"], None),
        Scenario("detail", "GET", [f"/api/v1/referrals/{i}" for i in ids], None),
        Scenario("create", "POST", ["/api/v1/referrals"], create_body),
        Scenario(
            "transition",
            "POST",
            [f"/api/v1/referrals/{r['id']}/transitions" for r in working[:50]] or ["/healthz"],
            transition_body,
        ),
        Scenario("search", "POST", ["/api/v1/referrals/search"], json.dumps({"q": "Miller"})),
        Scenario("home", "GET", ["/"], None, web=True),
        Scenario("web list", "GET", ["/referrals"], None, web=True),
    ]
    if connections_for_writers:
        scenarios.append(
            Scenario(
                "writers",
                "POST",
                ["/api/v1/referrals"],
                create_body,
                connections=connections_for_writers,
            )
        )
    return scenarios


def headers_for(scenario: Scenario, token: str, cookie: str) -> dict[str, str]:
    if scenario.web:
        return {"Cookie": cookie}
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def send(base: str, scenario: Scenario, token: str, cookie: str) -> Answer:
    return request(
        base,
        scenario.method,
        scenario.paths[0],
        token=None if scenario.web else token,
        body=json.loads(scenario.body) if scenario.body else None,
        cookie=cookie if scenario.web else None,
    )


def count_round_trips(
    stack: Stack,
    scenarios: list[Scenario],
    token: str,
    cookie: str,
    log: StatementLog | None,
    show: bool,
) -> dict[str, dict[str, str]]:
    """Round trips per request for each scenario, product and reference: one
    request to warm the worker's connection, then one counted."""
    counts: dict[str, dict[str, str]] = {"product": {}, "reference": {}}
    sent: dict[tuple[str, str], list[str]] = {}
    for scenario in scenarios:
        if scenario.name in ("healthz", "writers"):
            continue
        targets = [("product", stack.product[0].base)]
        if stack.reference and scenario.name in REFERENCE_SCENARIOS:
            targets.append(("reference", stack.reference[0].base))
        for which, base in targets:
            warm = send(base, scenario, token, cookie)
            if warm.status >= 300:
                print(f"warning: {which} {scenario.name} answered {warm.status}")
            if log is None:
                answer = send(base, scenario, token, cookie)
                counts[which][scenario.name] = answer.headers.get("X-Query-Count", "?")
                continue
            number, statements, answer = log.count(
                lambda b=base, s=scenario: send(b, s, token, cookie)
            )
            counts[which][scenario.name] = number
            sent[which, scenario.name] = statements
            if show:
                print(f"\n=== {which} {scenario.name}: {answer.status}, {number} statements")
                for text in statements:
                    print("  > " + text.replace("\n", "\n    "))
    counts["reference"]["differs"] = _reference_drift(sent)
    return counts


def _reference_drift(sent: dict[tuple[str, str], list[str]]) -> str:
    """Which of the reference's statements the product did not send for the
    same request (bench/reference.py's block needs updating when any)."""

    def norm(statement: str) -> str:
        return re.sub(r"\s+", " ", re.sub(r"\$\d+", "?", statement)).strip()

    drift = []
    for (which, name), statements in sent.items():
        if which != "reference":
            continue
        product = {norm(text) for text in sent.get(("product", name), [])}
        missing = [text for text in statements if norm(text) not in product]
        for text in missing:
            print(f"warning: the reference's {name} sends what the product does not: {text[:120]}")
        if missing:
            drift.append(f"{name} ({len(missing)})")
    return ", ".join(drift)


def measure(
    stack: Stack,
    which: str,
    scenario: Scenario,
    token: str,
    cookie: str,
    seconds: int,
    connections: int,
    url: str,
    quiet: float,
) -> dict[str, float]:
    servers = stack.reference if which == "reference" else stack.product
    script = lua_script(
        headers_for(scenario, token, cookie), scenario.method, scenario.paths, scenario.body
    )
    database = database_name(url) if url.startswith("postgresql") else None
    settle([*stack.app_pids("product"), *stack.app_pids("reference"), *postgres_pids(database)])
    wait_for_quiet(quiet)
    app_before = cpu_times(stack.app_pids(which))
    pg_before = cpu_times(postgres_pids(database))
    events_before = audit_events(url) if scenario.name == "writers" else None
    busy_before, ours_before, started = machine_busy(), children_cpu(), time.monotonic()
    result = run_wrk(
        script,
        [server.base for server in servers],
        scenario.paths[0],
        seconds,
        scenario.connections or connections,
    )
    busy_after, ours_after, elapsed = machine_busy(), children_cpu(), time.monotonic() - started
    app_after = cpu_times(stack.app_pids(which))
    pg_after = cpu_times(postgres_pids(database))
    served = max(result["requests"], 1.0)
    app, postgres = cpu_spent(app_before, app_after), cpu_spent(pg_before, pg_after)
    result["app_cpu"] = app * 1000 / served
    result["pg_cpu"] = postgres * 1000 / served if database else float("nan")
    # What else kept the cores busy meanwhile (another session's tests, say):
    # a scenario measured while this is well above 0 is slower than it should be.
    mine = app + postgres + (ours_after - ours_before)
    result["elsewhere"] = max(0.0, (busy_after - busy_before - mine) / elapsed)
    if events_before is not None:
        events_after = audit_events(url)
        if events_after is not None:
            result["events_per_s"] = (events_after - events_before) / seconds
    return result


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        cpu = found.group(1).strip() if found else cpu
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        found = re.search(r"MemTotal:\s+(\d+) kB", meminfo.read_text())
        memory = f", {int(found.group(1)) / 1024 / 1024:.0f} GiB" if found else ""
    postgres = sh("psql", "--version", check=False).strip() or "psql missing"
    return (
        f"{os.cpu_count()} cores ({cpu}){memory}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {postgres}, "
        f"{sh('wrk', '--version', check=False).splitlines()[0] if shutil.which('wrk') else ''}"
    )


def product_tree(rev: str | None) -> tuple[Path, str]:
    """The product's code to serve: this work tree, or a revision exported
    from git (to measure a commit while the work tree changes)."""
    if rev is None:
        head = sh("git", "-C", str(ROOT), "rev-parse", "--short", "HEAD", check=False).strip()
        dirty = sh(
            "git",
            "-C",
            str(ROOT),
            "status",
            "--porcelain",
            "--",
            "referral_app",
            "blueprints",
            "schemas",
            "migrations",
            check=False,
        ).strip()
        return ROOT, f"work tree at {head}" + (" with uncommitted changes" if dirty else "")
    commit = sh("git", "-C", str(ROOT), "rev-parse", "--short", rev).strip()
    tree = Path(tempfile.mkdtemp(prefix="referral-bench-tree-"))
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree, f"main at {commit} (exported)"


def fmt(value: float, digits: int = 1) -> str:
    return "-" if value != value else f"{value:.{digits}f}"  # NaN: not measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--referrals", type=int, default=10_000)
    parser.add_argument("--organisations", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--port", type=int, default=PORT, help="The product's first port.")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers in all")
    parser.add_argument(
        "--hosts", type=int, default=1, help="app servers (gunicorn masters) sharing the workers"
    )
    parser.add_argument(
        "--writers", type=int, default=8, help="connections of the write-only run (0: skip it)"
    )
    parser.add_argument(
        "--only", help="Comma-separated scenarios to time (healthz is always timed), e.g. list,home"
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60,
        help="Before each scenario, wait up to this many seconds for the machine to be idle.",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=2,
        help=f"Times to measure a scenario again when more than {BUSY_ELSEWHERE} of a core "
        "was busy elsewhere meanwhile.",
    )
    parser.add_argument("--reuse", action="store_true", help="Keep the database already loaded.")
    parser.add_argument(
        "--product-rev", help="Serve this git revision of the product instead of the work tree."
    )
    parser.add_argument(
        "--statements",
        action="store_true",
        help="Only count round trips and print each request's statements (PostgreSQL).",
    )
    parser.add_argument(
        "--no-results", action="store_true", help="Print the table; do not append it."
    )
    args = parser.parse_args()
    # Stopped with SIGTERM (or SIGINT, where a background job ignores it):
    # the servers are stopped and log_statement reset on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: make wrk")
    tree, described = product_tree(args.product_rev)
    if tree != ROOT:
        atexit.register(shutil.rmtree, tree, True)
    url = database_url(args.database, args.referrals)
    env = {
        **os.environ,
        "APP_ENV": "development",
        "QUERY_COUNT_HEADER": "1",
        "DATABASE_URL": url,
        # Ahead of the editable install, so an exported revision is what runs.
        "PYTHONPATH": str(tree),
    }
    seed_seconds = (
        0.0 if args.reuse else prepare(args.database, args.referrals, args.organisations, env, tree)
    )
    per_host = max(1, args.workers // args.hosts)
    product = [
        Server(
            f"product host {n + 1}", args.port + n, "referral_app:create_app()", per_host, env, tree
        )
        for n in range(args.hosts)
    ]
    reference = (
        [
            Server(
                f"reference host {n + 1}",
                args.port + 10 + n,
                "reference:create_app()",
                per_host,
                env,
                ROOT,
                extra=["--pythonpath", str(ROOT / "bench")],
            )
            for n in range(args.hosts)
        ]
        if args.database == "postgresql"
        else []
    )
    sequencer = sequencer_command(env, tree)
    stack = Stack(product, reference, sequencer, env, tree)
    log = StatementLog(database_name(url)) if args.database == "postgresql" else None
    if log is not None and log.path is None:
        print("warning: PostgreSQL's log is not readable here: round trips not counted")

    # First pass: one worker a server, statements logged; sign in, find the
    # scenarios' ids, count each request's round trips.
    counting = Stack(
        [Server("product", args.port, product[0].app, 1, env, tree)],
        [Server("reference", args.port + 10, reference[0].app, 1, env, ROOT, reference[0].extra)]
        if reference
        else [],
        sequencer,
        env,
        tree,
    )
    if log is not None and log.path is not None:
        log.enable()
    try:
        counting.start()
        base = counting.product[0].base
        issued = request(
            base, "POST", "/api/v1/auth/tokens", body={"email": MANAGER, "password": PASSWORD}
        )
        if issued.status != 201:
            sys.exit(f"Could not get an API token: {issued.status}")
        token = issued.body["token"]
        cookie = browser_session(base, MANAGER)
        scenarios = discover(base, token, args.writers)
        if args.only:
            chosen = {"healthz", *args.only.split(",")}
            scenarios = [s for s in scenarios if s.name in chosen]
        counts = count_round_trips(
            counting,
            scenarios,
            token,
            cookie,
            log if log is not None and log.path is not None else None,
            args.statements,
        )
    finally:
        counting.stop()
        if log is not None:
            log.disable()
    if args.statements:
        return

    # The timed pass: fresh servers (their connections made without logging).
    results: dict[str, dict[str, dict[str, float]]] = {"product": {}, "reference": {}}
    try:
        stack.start()
        # Warm the workers (imports, connections, the database's cache).
        for scenario in scenarios:
            if scenario.name not in ("list", "detail", "search", "home"):
                continue
            script = lua_script(
                headers_for(scenario, token, cookie), scenario.method, scenario.paths, scenario.body
            )
            run_wrk(script, [s.base for s in stack.product], scenario.paths[0], 2, args.connections)
            if stack.reference and scenario.name in REFERENCE_SCENARIOS:
                run_wrk(
                    script,
                    [s.base for s in stack.reference],
                    scenario.paths[0],
                    2,
                    args.connections,
                )
        for scenario in scenarios:
            for which in ("product", "reference"):
                if which == "reference" and (
                    not stack.reference or scenario.name not in REFERENCE_SCENARIOS
                ):
                    continue
                # A scenario measured while something else kept the cores
                # busy is measured again (the least disturbed attempt kept).
                for _ in range(1 + args.retries):
                    result = measure(
                        stack,
                        which,
                        scenario,
                        token,
                        cookie,
                        args.seconds,
                        args.connections,
                        url,
                        args.quiet_wait,
                    )
                    print(which, scenario.name, {k: round(v, 2) for k, v in result.items()})
                    kept = results[which].get(scenario.name)
                    if kept is None or result["elsewhere"] < kept["elsewhere"]:
                        results[which][scenario.name] = result
                    if result["elsewhere"] <= BUSY_ELSEWHERE:
                        break
        rss = worker_rss_mb(stack.app_pids("product"))
    finally:
        stack.stop()

    health = results["product"]["healthz"]["rps"]
    drift = ""
    if reference and log is not None and log.path is not None:
        differs = counts["reference"].pop("differs", "")
        drift = (
            f" The reference sends statements the product no longer sends, in: {differs} "
            "(bench/reference.py's block needs updating)."
            if differs
            else " The reference's statements are all among the product's."
        )
    counted = (
        "statements (round trips) at the database"
        if log is not None
        else "SQL queries (X-Query-Count)"
    )
    hosts = f"{args.hosts} hosts of {per_host} workers" if args.hosts > 1 else f"{per_host} workers"
    lines = [
        f"\n### {args.database}, {args.referrals:,} referrals, {hosts}, "
        f"{args.connections} connections, {args.seconds} s per scenario",
        f"Machine: {machine()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. "
        f"Product: {described}"
        f"{', audit sequencer `flask audit seal --watch` running' if sequencer else ''}. "
        f"bench-seed: {seed_seconds:.0f} s. Worker RSS after the run: {rss:.0f} MB.{drift}",
        "",
        f"| scenario | req/s | ratio to /healthz | ratio to reference | p50 ms | p99 ms | non-2xx "
        f"| {counted} | app CPU ms/req | PostgreSQL CPU ms/req | cores busy elsewhere |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results["product"].items():
        ref = results["reference"].get(name)
        label = f"writers ({args.writers} connections, create)" if name == "writers" else name
        to_reference = f"{r['rps'] / ref['rps']:.2f}" if ref else "-"
        lines.append(
            f"| {label} | {r['rps']:.0f} | {r['rps'] / health:.2f} | {to_reference} | "
            f"{fmt(r['p50'])} | {fmt(r['p99'])} | {r['non_2xx']:.0f} | "
            f"{counts['product'].get(name, '-')} | {fmt(r['app_cpu'], 2)} | "
            f"{fmt(r['pg_cpu'], 2)} | {fmt(r['elsewhere'], 2)} |"
        )
    if results["reference"]:
        lines += [
            "",
            "The bare reference (bench/reference.py: Flask + psycopg, the product's statements "
            "and audit write), same run:",
            "",
            f"| scenario | req/s | ratio to /healthz | p50 ms | p99 ms | non-2xx | {counted} "
            "| app CPU ms/req | PostgreSQL CPU ms/req | cores busy elsewhere |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for name, r in results["reference"].items():
            lines.append(
                f"| {name} | {r['rps']:.0f} | {r['rps'] / health:.2f} | {fmt(r['p50'])} | "
                f"{fmt(r['p99'])} | {r['non_2xx']:.0f} | {counts['reference'].get(name, '-')} | "
                f"{fmt(r['app_cpu'], 2)} | {fmt(r['pg_cpu'], 2)} | {fmt(r['elsewhere'], 2)} |"
            )
    writers = results["product"].get("writers")
    if writers:
        note = f"Write-only run, {args.writers} connections of POST create: product "
        note += f"{writers['rps']:.0f} audited transactions/s"
        if "events_per_s" in writers:
            note += f" ({writers['events_per_s']:.0f} audit events/s)"
        ref = results["reference"].get("writers")
        if ref:
            note += f"; reference {ref['rps']:.0f}/s"
            if "events_per_s" in ref:
                note += f" ({ref['events_per_s']:.0f} events/s)"
        lines += ["", note + "."]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_results:
        with open(ROOT / "bench" / "RESULTS.md", "a", encoding="utf-8") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()
