#!/usr/bin/env bash
# The whole test suite, as `make test` and CI run it:
#   lint and format, type check, migrations up to date, production deploy check,
#   pytest on the embedded default (SQLite + filesystem broker),
#   pytest on PostgreSQL + Redis with real Celery worker processes (tests/integration).
# Both pytest passes run in parallel (pytest-xdist, one process per core, at most 4; TEST_PROCESSES
# overrides) and list their 15 slowest tests; the fuzz and volume tests (marker server_pass) run in
# the PostgreSQL pass only. The wall time of every step is printed at the end.
# Extra arguments go to both pytest runs (e.g. `bash scripts/test.sh -m "not slow"` for a quick pass).
# With CI=true every server-backed part is required: an unreachable server fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export TESTING=true
CI=${CI:-false}
TEST_DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tpi_clinic}
TEST_BROKER_URL=${TEST_BROKER_URL:-redis://127.0.0.1:6379/15}
# Each xdist process gets its own test database (suffix _gw0, _gw1, ...) and broker namespace (tests/celery_worker.py).
PARALLEL=(-n "${TEST_PROCESSES:-auto}" --maxprocesses 4 --durations 15)
PYTEST_ARGS=("$@")

STEP="" STEP_STARTED=0 TIMINGS=()
step_done() {
  if [ -n "$STEP" ]; then TIMINGS+=("$(printf '%5ss  %s' $((SECONDS - STEP_STARTED)) "$STEP")"); fi
  STEP=""
}
step() {
  step_done
  STEP="$*" STEP_STARTED=$SECONDS
  printf '\n== %s\n' "$*"
}
report() {
  step_done
  printf '\n== wall time per step\n'
  printf '%s\n' "${TIMINGS[@]}"
  printf '%5ss  total\n' "$SECONDS"
}
trap report EXIT

step "ruff check and format"
$PY -m ruff check .
$PY -m ruff format --check .

step "mypy (clinic/, scheduling/, tpi/ with the Django and DRF stubs; config in pyproject.toml)"
$PY -m mypy

step "migrations are committed"
env -u DATABASE_URL $PY manage.py makemigrations --check --dry-run

step "production settings pass check --deploy"
DEBUG=false SECRET_KEY="$($PY -c 'import secrets; print(secrets.token_urlsafe(64))')" \
  ALLOWED_HOSTS=clinic.example DATABASE_URL="$TEST_DATABASE_URL" CELERY_BROKER_URL="$TEST_BROKER_URL" \
  $PY manage.py check --deploy --fail-level WARNING

if [ "$CI" = "true" ]; then
  export REQUIRE_BROWSER=1
fi

step "pytest on the embedded default (SQLite, filesystem broker; fuzz and volume tests left to PostgreSQL)"
env -u DATABASE_URL -u CELERY_BROKER_URL $PY -m pytest "${PARALLEL[@]}" -m "not server_pass" "${PYTEST_ARGS[@]}"

# A whole pinned pass costs about two minutes with -n 2; the clock-sensitive modules pinned at a UTC
# night (the UTC date is ahead of the clinic's) and on the US spring-forward day stand in for it.
# Run everything pinned with PIN_CLOCK=<instant> .venv/bin/python -m pytest -n 2.
step "pytest with the clock pinned (UTC night, DST change day) on the clock-sensitive modules"
for instant in 2026-11-30T02:30:00Z 2026-03-08T06:30:00Z; do
  PIN_CLOCK=$instant env -u DATABASE_URL -u CELERY_BROKER_URL $PY -m pytest -q -n 2 \
    tests/clinic/test_clock_rule.py tests/clinic/audit/test_admin.py tests/scheduling/test_admin.py \
    tests/scheduling/test_admin_series.py tests/scheduling/test_series.py tests/tpi/test_followup_admin.py \
    tests/tpi/test_plan_booking.py tests/tpi/test_sign_warnings.py
done

step "pytest on PostgreSQL + Redis with a real Celery worker"
if $PY scripts/wait_for_services.py "$TEST_DATABASE_URL" "$TEST_BROKER_URL"; then
  DATABASE_URL="$TEST_DATABASE_URL" CELERY_BROKER_URL="$TEST_BROKER_URL" REQUIRE_SERVER_TESTS=1 TEST_FUZZ_EXAMPLES=25 \
    $PY -m pytest "${PARALLEL[@]}" "${PYTEST_ARGS[@]}"
elif [ "$CI" = "true" ]; then
  echo "FAILED: PostgreSQL or Redis is unreachable and CI=true; nothing is skipped in CI." >&2
  exit 1
else
  echo "WARNING: PostgreSQL ($TEST_DATABASE_URL) or Redis ($TEST_BROKER_URL) unreachable:"
  echo "         the server-backed pass did not run. Start them, or set TEST_DATABASE_URL / TEST_BROKER_URL."
fi
