#!/bin/sh
# verify_command for `git pitboss grind`: run the project's own tests in the session worktree.
# A non-zero exit fails the session (its work is saved as a patch, not landed).
#
#   [grind]
#   verify_command = "sh hooks/verify-tests.sh"
#
# It picks the test runner from what the project has; set PITBOSS_TEST_CMD to choose one.
set -eu
cd "${PITBOSS_WORKTREE:-.}"
if [ -n "${PITBOSS_TEST_CMD:-}" ]; then
  exec sh -c "$PITBOSS_TEST_CMD"
elif [ -f Cargo.toml ]; then
  exec cargo test --quiet
elif [ -f package.json ]; then
  exec npm test --silent
elif [ -f pyproject.toml ] || [ -f setup.py ] || [ -f pytest.ini ]; then
  exec python3 -m pytest -q
elif [ -f go.mod ]; then
  exec go test ./...
elif [ -f Makefile ] && grep -q '^test:' Makefile; then
  exec make test
else
  echo "verify-tests: no test runner found (set PITBOSS_TEST_CMD)" >&2
  exit 2
fi
