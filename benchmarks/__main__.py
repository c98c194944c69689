"""The benchmark suite: every path of issue 15 beside its reference, in one command.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tpi_bench CELERY_BROKER_URL=redis://127.0.0.1:6379/8 \\
        python -m benchmarks --procedures 1000000 --due 100000 --deliveries 2000

DATABASE_URL names a PostgreSQL server and a prefix: each part gets an empty database of its own,
<name>_lists, <name>_outcomes and <name>_sweeps, dropped and created again when the part starts (never
name a database you keep: those three are replaced). Each part runs as its own process
(`python -m benchmarks.lists`, `benchmarks.outcomes`, `benchmarks.sweeps`, with the arguments below),
prints its table as it goes, and the suite prints every table again at the end:

- lists: each list request at --procedures beside the same request at --reference procedures;
- outcomes: the results dashboard and the consider-repeat list, the same way;
- sweeps: --due follow-ups swept beside one SQL statement, --deliveries messages delivered on a real
  worker beside a no-op task (CELERY_BROKER_URL: a broker of its own; --no-delivery skips it).

Not a timed test. `--parts` picks some (comma-separated). tests/benchmarks runs it at a tiny scale.
"""

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import environ
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
PARTS: dict[str, Callable[[argparse.Namespace], list[str]]] = {
    "lists": lambda a: ["--procedures", str(a.procedures), "--reference", str(a.reference)],
    "outcomes": lambda a: ["--procedures", str(a.procedures), "--reference", str(a.reference)],
    "sweeps": lambda a: (
        ["--due", str(a.due), "--deliveries", str(a.deliveries)] + (["--no-delivery"] if a.no_delivery else [])
    ),
}


def database_fresh(url: str) -> None:
    """Drop the PostgreSQL database URL names (if it exists) and create it empty."""
    config = environ.Env.db_url_config(url)
    server = {"host": config.get("HOST") or "127.0.0.1", "port": config.get("PORT") or 5432,
              "user": config.get("USER") or "postgres", "password": config.get("PASSWORD") or None}  # fmt: skip
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as connection:
        name = sql.Identifier(config["NAME"])
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(name))


def part_url(url: str, part: str) -> str:
    """Return URL naming the database <its name>_PART on the same server."""
    parts = urlsplit(url)
    return parts._replace(path=f"{parts.path.rstrip('/')}_{part}").geturl()


def part_run(part: str, arguments: list[str], *, url: str) -> tuple[int, list[str]]:
    """Run one part in its own process on a fresh database; echo and return its output lines."""
    database_fresh(url)
    command = [sys.executable, "-m", f"benchmarks.{part}", *arguments]
    sys.stdout.write(f"\n== {part}: {' '.join(command[1:])} (database {urlsplit(url).path.lstrip('/')})\n")
    sys.stdout.flush()
    env = {"LOG_LEVEL": "WARNING", **os.environ, "DATABASE_URL": url}  # the tables, not every request's log line
    lines: list[str] = []
    with subprocess.Popen(  # noqa: S603  (our own interpreter and module)
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write(line)
            lines.append(line.rstrip("\n"))
    return process.returncode, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--procedures", type=int, default=1_000_000, help="procedures at scale (default 1000000)")
    parser.add_argument("--reference", type=int, default=1_000, help="procedures of the reference (default 1000)")
    parser.add_argument("--due", type=int, default=100_000, help="due follow-ups to sweep (default 100000)")
    parser.add_argument("--deliveries", type=int, default=2_000, help="messages to deliver (default 2000)")
    parser.add_argument("--no-delivery", action="store_true", help="skip the delivery part (no worker)")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, of {', '.join(PARTS)}")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""), help="default: DATABASE_URL")
    args = parser.parse_args(argv)
    parts = [part.strip() for part in args.parts.split(",") if part.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown part(s): {', '.join(unknown)}")
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("DATABASE_URL (or --database-url) must name a PostgreSQL server: the suite seeds with COPY")
    started = time.perf_counter()
    tables: list[str] = []
    failed: list[str] = []
    for part in parts:
        code, lines = part_run(part, PARTS[part](args), url=part_url(args.database_url, part))
        if code:
            failed.append(part)
        tables.append("\n".join([f"{part}:", *(line for line in lines if line.startswith(("|", "PostgreSQL")))]))
    sys.stdout.write(
        f"\n== every table ({time.perf_counter() - started:.0f} s in all)\n\n" + "\n\n".join(tables) + "\n"
    )
    if failed:
        sys.stderr.write(f"FAILED: {', '.join(failed)}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
