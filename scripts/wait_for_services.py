"""Wait (up to 30 s) until the PostgreSQL and Redis URLs given answer; exit 1 if one never does."""

import sys
import time

import environ
import psycopg
import redis


def reachable(database_url: str, broker_url: str) -> list[str]:
    down = []
    db = environ.Env.db_url_config(database_url)
    try:
        psycopg.connect(
            host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname="postgres", connect_timeout=3
        ).close()
    except psycopg.Error as exc:
        down.append(f"PostgreSQL: {exc}".strip())
    try:
        redis.Redis.from_url(broker_url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        down.append(f"Redis: {exc}")
    return down


def main() -> int:
    database_url, broker_url = sys.argv[1], sys.argv[2]
    deadline = time.monotonic() + 30
    while down := reachable(database_url, broker_url):
        if time.monotonic() > deadline:
            print("unreachable:", "; ".join(down), file=sys.stderr)
            return 1
        time.sleep(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
