#!/usr/bin/env bash
# The whole test command: install what the tests need, lint, type-check, then run the suite
# on SQLite and on PostgreSQL. Under CI (CI set) PostgreSQL is mandatory.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check \
  -c requirements/lock.txt -e '.[test]'

echo "== GraphiQL's files (npm registry) and Chromium (Debian) for the browser tests"
.venv/bin/aize-analytics fetch-graphiql
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is missing: 'sudo apt-get install -y chromium' (tests/browser.py needs it)"
  fi
fi

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy"
.venv/bin/mypy
echo "== schema.graphql in sync"
.venv/bin/aize-analytics export-schema | diff -u schema.graphql - \
  || { echo "schema.graphql is stale: run 'aize-analytics export-schema -o schema.graphql'"; exit 1; }

echo "== pytest (SQLite)"
AIZE_TEST_BACKEND=sqlite .venv/bin/python -m pytest "$@"
echo "== pytest (PostgreSQL)"
AIZE_TEST_BACKEND=postgres .venv/bin/python -m pytest "$@"
