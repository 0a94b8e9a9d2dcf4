#!/bin/sh
# pre_session hook for `git pitboss grind`: refuse to start a session when the worktree is not
# clean (something outside pitboss changed it). A non-zero exit fails the session.
#
#   [grind.hooks]
#   pre_session = "sh hooks/require-clean-base.sh"
set -eu
cd "${PITBOSS_WORKTREE:-.}"
if [ -n "$(git status --porcelain)" ]; then
  echo "the worktree has changes that no session made:" >&2
  git status --short >&2
  exit 1
fi
