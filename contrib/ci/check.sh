#!/bin/sh
# check.sh: fail a CI build when the migrations and the database disagree.
#
#   1. `aurweb-migrate verify`: the repository itself (schema/ equals a replay of migrations/,
#      on SQLite and on scratch databases on the MySQL/MariaDB server the database setting
#      names; with schema/mysql.sql present and no such server it cannot run, exit 2, unless
#      AURWEB_MIGRATE_VERIFY_DIALECT=sqlite restricts it). Skip it with --skip-verify or
#      AURWEB_MIGRATE_SKIP_VERIFY=1.
#   2. `aurweb-migrate check --drift`: the database has no pending, modified, missing or failed
#      migration, and its live schema is the one its history says it has.
#
# Usage: check.sh [--skip-verify] [AURWEB-MIGRATE OPTIONS...]
#   The options are passed to both commands, e.g. `check.sh -m migrations --schema schema`.
#
# Environment:
#   AURWEB_MIGRATE               the binary (default: aurweb-migrate from PATH)
#   AURWEB_MIGRATE_DATABASE_URL  the database to check; or anything else aurweb-migrate reads
#                                (DATABASE_URL, ./aurweb-migrate.toml, AUR_CONFIG). A password
#                                belongs there, never in these options.
#   AURWEB_MIGRATE_SKIP_VERIFY   1: skip step 1
#   AURWEB_MIGRATE_VERIFY_DIALECT  mysql or sqlite: step 1 checks that dialect only
#
# Exit: 0 clean; 1 problems found (listed, then one line saying why; also when check exits 7,
# live rows a pending migration would fail on); 2 or more: the check
# could not run (the tool's own exit code: 2 input error, 3 no database connection, ...).
set -u

me=check.sh
bin=${AURWEB_MIGRATE:-aurweb-migrate}
verify=yes
case ${AURWEB_MIGRATE_SKIP_VERIFY:-} in
    1 | yes | true) verify=no ;;
esac
case ${1:-} in
    --skip-verify)
        verify=no
        shift
        ;;
    -h | --help)
        sed -n '2,/^set -u/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
        exit 0
        ;;
esac

if ! command -v "$bin" >/dev/null 2>&1; then
    echo "$me: ERROR: cannot run aurweb-migrate ($bin): not found; set AURWEB_MIGRATE" >&2
    exit 2
fi

# Lines of $2 that report a problem of kind $1 (`  pending: …`, `  drift from …`).
count() {
    printf '%s\n' "$2" | grep -c "^  $1[: ]"
}

if [ "$verify" = yes ]; then
    echo "== aurweb-migrate verify"
    if [ -n "${AURWEB_MIGRATE_VERIFY_DIALECT:-}" ]; then
        "$bin" "$@" verify --dialect "$AURWEB_MIGRATE_VERIFY_DIALECT"
    else
        "$bin" "$@" verify
    fi
    rc=$?
    if [ "$rc" -eq 1 ]; then
        echo "$me: FAILED: schema/ does not match a replay of migrations/ (see the differences above): update schema/ with the new migration, or fix the migration"
        exit 1
    elif [ "$rc" -ne 0 ]; then
        echo "$me: ERROR: aurweb-migrate verify could not run (exit $rc, see above)"
        exit "$rc"
    fi
fi

echo "== aurweb-migrate check --drift"
out=$("$bin" "$@" check --drift 2>&1)
rc=$?
printf '%s\n' "$out"
case $rc in
    0)
        echo "$me: OK: the database is at the head of the migrations and its schema has not drifted"
        exit 0
        ;;
    1 | 7) ;;
    *)
        echo "$me: ERROR: aurweb-migrate check could not run (exit $rc, see above)"
        exit "$rc"
        ;;
esac

why=
add() {
    if [ "$1" -gt 0 ]; then
        why="${why:+$why; }$1 $2"
    fi
}
add "$(count pending "$out")" "pending migration(s): run aurweb-migrate upgrade"
add "$(count modified "$out")" "applied migration(s) edited since: restore the applied file, add a new migration instead"
add "$(count missing "$out")" "applied migration(s) without a file: the database is ahead of this code"
add "$(count failed "$out")" "failed migration(s): fix by hand, then aurweb-migrate resolve or upgrade --resume"
add "$(count out-of-order "$out")" "migration(s) older than the newest applied one"
add "$(count violation "$out")" "live row problem(s) a pending migration would fail on (exit 7): fix the rows, or the migration before the statement"
add "$(count drift "$out")" "difference(s) between the live schema and schema/: a change made by hand, or a migration missing from schema/"
echo "$me: FAILED: ${why:-aurweb-migrate check reported problems (see above)}"
exit 1
