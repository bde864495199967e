"""The benchmark: the app under gunicorn over generated data, loaded by wrk.

    .venv/bin/python bench/run.py --database sqlite --referrals 10000
    .venv/bin/python bench/run.py --database postgresql --referrals 1000000

For each scenario (list, detail, create, transition, name search) it runs
wrk beside /healthz in the same run, and reports requests per second, p50
and p99 latency, the ratio to /healthz, the SQL queries per request (from
the X-Query-Count header the app sends when QUERY_COUNT_HEADER is on) and
a worker's resident memory. Results are appended to bench/RESULTS.md.
Traffic goes to 127.0.0.1 only; every wrk run is bounded in time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
PASSWORD = "bench-password-2026"


def sh(*args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def request(
    method: str, path: str, token: str | None = None, body: object = None
) -> tuple[int, dict, object]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            raw = response.read()
            return response.status, dict(response.headers), json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), None


def database_url(kind: str, referrals: int) -> str:
    if kind == "sqlite":
        folder = Path(tempfile.gettempdir()) / "referral-bench"
        folder.mkdir(exist_ok=True)
        return f"sqlite:///{folder}/bench-{referrals}.db"
    return f"postgresql://postgres@127.0.0.1:5432/referral_bench_{referrals}"


def prepare(kind: str, referrals: int, organisations: int, env: dict[str, str]) -> float:
    """A fresh database with the generated data; returns the seconds bench-seed took."""
    url = env["DATABASE_URL"]
    if kind == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    else:
        name = url.rsplit("/", 1)[1]
        sh("psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"DROP DATABASE IF EXISTS {name}")
        sh("psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"CREATE DATABASE {name}")
    flask = [str(VENV / "flask"), "--app", "referral_app"]
    sh(*flask, "db", "upgrade", env=env)
    started = time.perf_counter()
    out = sh(
        *flask,
        "bench-seed",
        "--referrals",
        str(referrals),
        "--organisations",
        str(organisations),
        env=env,
    )
    seconds = time.perf_counter() - started
    print(out.strip())
    if kind == "postgresql":
        sh(
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            url.rsplit("/", 1)[1],
            "-qc",
            # Statistics, and the visibility map that lets counts read the
            # indexes alone (what autovacuum does in time on a live server).
            "VACUUM ANALYZE",
        )
    return seconds


def lua_script(token: str, method: str, paths: list[str], body: str | None) -> str:
    quoted = ",".join(json.dumps(p) for p in paths)
    body_line = f"wrk.body = {json.dumps(body)}" if body else ""
    return f"""
wrk.method = "{method}"
wrk.headers["Authorization"] = "Bearer {token}"
wrk.headers["Content-Type"] = "application/json"
{body_line}
local paths = {{{quoted}}}
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, paths[(n % #paths) + 1])
end
"""


def run_wrk(script: str, path: str, seconds: int, connections: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    out = sh(
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        handle.name,
        BASE + path,
        check=False,
    )
    os.unlink(handle.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def ms(label: str) -> float:
        match = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50": ms("50"),
        "p99": ms("99"),
        "non_2xx": float(errors.group(1)) if errors else 0.0,
    }


def worker_rss_mb(master_pid: int) -> float:
    children = sh("pgrep", "-P", str(master_pid), check=False).split()
    sizes = []
    for pid in children:
        status = Path(f"/proc/{pid}/status")
        if status.exists():
            match = re.search(r"VmRSS:\s+(\d+) kB", status.read_text())
            if match:
                sizes.append(int(match.group(1)) / 1024)
    return max(sizes) if sizes else 0.0


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
    import sqlite3

    postgres = sh("psql", "--version", check=False).strip() or "psql missing"
    return (
        f"{os.cpu_count()} cores ({cpu}){memory}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {postgres}, "
        f"{sh('wrk', '--version', check=False).splitlines()[0] if shutil.which('wrk') else ''}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--referrals", type=int, default=10_000)
    parser.add_argument("--organisations", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--reuse", action="store_true", help="Keep the database already loaded.")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    env = {
        **os.environ,
        "APP_ENV": "development",
        "QUERY_COUNT_HEADER": "1",
        "DATABASE_URL": database_url(args.database, args.referrals),
    }
    seed_seconds = (
        0.0 if args.reuse else prepare(args.database, args.referrals, args.organisations, env)
    )
    gunicorn = [str(VENV / "gunicorn"), "--workers", str(args.workers)]
    if "--no-control-socket" in sh(str(VENV / "gunicorn"), "--help"):
        gunicorn.append("--no-control-socket")  # gunicorn 25+: one per host otherwise
    server = subprocess.Popen(
        [
            *gunicorn,
            "--bind",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "warning",
            "referral_app:create_app()",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(60):
            try:
                if request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.5)
        _, _, body = request(
            "POST",
            "/api/v1/auth/tokens",
            body={"email": "manager0@bench-0001.example", "password": PASSWORD},
        )
        token = body["token"]
        _, _, incoming = request("GET", "/api/v1/referrals?direction=incoming&page_size=25", token)
        ids = [r["id"] for r in incoming] or ["00000000-0000-4000-8000-000000000000"]
        _, _, working = request(
            "GET", "/api/v1/referrals?direction=incoming&status=in_progress&page_size=100", token
        )
        _, _, me = request("GET", "/api/v1/me", token)
        _, _, orgs = request("GET", "/api/v1/organisations?page_size=5", token)
        other = next(o["id"] for o in orgs if o["id"] != me["organisation"]["id"])
        _, _, staff = (
            request("GET", f"/api/v1/referrals/{working[0]['id']}", token)
            if working
            else (0, {}, None)
        )
        assignee = (staff or {}).get("assignee", {}) or {}
        create_body = json.dumps(
            {
                "child": {
                    "first_name": "Bench",
                    "last_name": "Child",
                    "date_of_birth": "2012-05-01",
                },
                "receiving_organisation_id": other,
                "reason": "Benchmark.",
                "risk_level": "low",
                "consent_status": "obtained_from_parent",
                "lawful_basis": "public_task",
            }
        )
        transition_body = json.dumps(
            {"action": "assign", "assignee_id": assignee.get("id", me["id"])}
        )
        scenarios = {
            "healthz": ("GET", ["/healthz"], None),
            "list": ("GET", ["/api/v1/referrals?direction=incoming&page_size=25"], None),
            "detail": ("GET", [f"/api/v1/referrals/{i}" for i in ids], None),
            "create": ("POST", ["/api/v1/referrals"], create_body),
            "transition": (
                "POST",
                [f"/api/v1/referrals/{r['id']}/transitions" for r in (working or [])[:50]]
                or ["/healthz"],
                transition_body,
            ),
            "search": ("POST", ["/api/v1/referrals/search"], json.dumps({"q": "Miller"})),
        }
        queries = {}
        for name, (method, paths, body_text) in scenarios.items():
            if name == "healthz":
                continue
            _, hdrs, _ = request(
                method, paths[0], token, json.loads(body_text) if body_text else None
            )
            queries[name] = hdrs.get("X-Query-Count", "?")
        # Warm the workers (imports, connection pools, the database's cache).
        for name in ("list", "detail", "search"):
            method, paths, body_text = scenarios[name]
            run_wrk(lua_script(token, method, paths, body_text), paths[0], 2, args.connections)
        results = {}
        for name, (method, paths, body_text) in scenarios.items():
            script = lua_script(token, method, paths, body_text)
            results[name] = run_wrk(script, paths[0], args.seconds, args.connections)
            print(name, results[name], "queries:", queries.get(name, "-"))
        rss = worker_rss_mb(server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    health = results["healthz"]["rps"]
    lines = [
        f"\n### {args.database}, {args.referrals:,} referrals, {args.workers} workers, "
        f"{args.connections} connections, {args.seconds} s per scenario",
        f"Machine: {machine()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. "
        f"bench-seed: {seed_seconds:.0f} s. Worker RSS after the run: {rss:.0f} MB.",
        "",
        "| scenario | req/s | ratio to /healthz | p50 ms | p99 ms | non-2xx | SQL queries |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['rps']:.0f} | {r['rps'] / health:.2f} | {r['p50']:.1f} | "
            f"{r['p99']:.1f} | {r['non_2xx']:.0f} | {queries.get(name, '-')} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    with open(ROOT / "bench" / "RESULTS.md", "a", encoding="utf-8") as handle:
        handle.write(text)


if __name__ == "__main__":
    main()
