#!/bin/sh
# on_failure hook for `git pitboss grind`: append one line per failed session to a log file
# (default: pitboss-failures.log in the git common dir), for a morning look at what broke.
#
#   [grind.hooks]
#   on_failure = "sh hooks/log-failure.sh"
set -eu
log="${PITBOSS_FAILURE_LOG:-$(git -C "${PITBOSS_WORKTREE:-.}" rev-parse --git-common-dir)/pitboss-failures.log}"
printf '%s run=%s session=%s prompt=%s status=%s\n' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${PITBOSS_RUN_ID:-?}" "${PITBOSS_SEQ:-?}" \
  "${PITBOSS_PROMPT:-?}" "${PITBOSS_STATUS:-?}" >> "$log"
