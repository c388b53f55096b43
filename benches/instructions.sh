#!/usr/bin/env bash
# instructions.sh - the tool's own work, old binary against new, as instruction counts from
# valgrind's callgrind: the same count for the same binary and input whatever else the machine
# does, so a change of 1 % shows where hyperfine's wall times (benches/compare.sh) drown in
# noise. What a server does for the tool (MariaDB's own CPU, fsyncs) is not counted: compare.sh
# times that side.
#
# SERIES (N migrations from shared/bench/gen_migrations.py)
#   status   `status` on an up-to-date database (N applied)            SQLite and MariaDB
#   noop     `upgrade` on it (nothing to do)                          SQLite and MariaDB
#   apply    `upgrade` of an empty database to the head (N migrations)  SQLite (MariaDB with
#            APPLY_MARIADB=1: slow under valgrind, about a minute per binary at N = 1,000)
#
# RUN
#   OLD=/path/to/old/aurweb-migrate NEW=/path/to/new/aurweb-migrate bash benches/instructions.sh
#   (benches/compare.sh's header shows how to build the old binary of a commit)
#
# KNOBS (environment)
#   N (1000)  DBS ("sqlite mariadb")  MYSQL_URL (mysql://root@127.0.0.1:3306)
#   MYSQL_ADMIN ("mariadb -h127.0.0.1 -P3306 -uroot")  OUT (a fresh directory under /tmp)
#   GEN (gen_migrations.py: beside the repository in ../shared/bench, else /work/shared/bench)
# Needs valgrind and python3, and for MariaDB a running server and the mariadb client. Only
# 127.0.0.1 is reached. Prints one line per series: old, new, new/old.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${OLD:?set OLD to the old binary}"
: "${NEW:?set NEW to the new binary}"
N=${N:-1000}
DBS=${DBS:-sqlite mariadb}
MYSQL_URL=${MYSQL_URL:-mysql://root@127.0.0.1:3306}
MYSQL_ADMIN=${MYSQL_ADMIN:-mariadb -h127.0.0.1 -P3306 -uroot}
OUT=${OUT:-$(mktemp -d /tmp/aurweb-migrate-instructions.XXXXXX)}
GEN=${GEN:-}
if [ -z "$GEN" ]; then
    for g in "$here/../../shared/bench/gen_migrations.py" /work/shared/bench/gen_migrations.py; do
        if [ -f "$g" ]; then GEN=$g; break; fi
    done
fi
[ -f "$GEN" ] || { echo "instructions.sh: gen_migrations.py not found (set GEN)" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "instructions.sh: needs valgrind" >&2; exit 2; }

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
cd "$OUT"  # no aurweb-migrate.toml or ./migrations to pick up
python3 "$GEN" "$OUT/gen" "$N" >/dev/null
M=$OUT/gen/plain
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ); N: $N; old: $OLD; new: $NEW"

# The instructions one command executes (all threads), from callgrind's summary line.
count() {
    local out=$OUT/cg.$$.out
    timeout 600 valgrind --tool=callgrind --callgrind-out-file="$out" "$@" >/dev/null 2>"$OUT/cg.log" \
        || { echo "instructions.sh: failed: $*" >&2; tail -5 "$OUT/cg.log" >&2; exit 1; }
    awk '/^summary:/ {print $2}' "$out"
    rm -f "$out"
}

line() { # SERIES OLD_COUNT NEW_COUNT
    awk -v s="$1" -v o="$2" -v n="$3" \
        'BEGIN { printf "%-18s old %13d  new %13d  new/old %.4f\n", s, o, n, n / o }'
}

series() { # DB HEAD_URL APPLY_URL RESET_COMMAND
    local db=$1 head=$2 apply=$3 reset=$4 o n
    "$NEW" -q -m "$M" -d "$head" upgrade
    o=$(count "$OLD" -m "$M" -d "$head" status); n=$(count "$NEW" -m "$M" -d "$head" status)
    line "$db status" "$o" "$n"
    o=$(count "$OLD" -q -m "$M" -d "$head" upgrade); n=$(count "$NEW" -q -m "$M" -d "$head" upgrade)
    line "$db noop" "$o" "$n"
    if [ "$db" = sqlite ] || [ "${APPLY_MARIADB:-0}" = 1 ]; then
        eval "$reset"; o=$(count "$OLD" -q -m "$M" -d "$apply" upgrade)
        eval "$reset"; n=$(count "$NEW" -q -m "$M" -d "$apply" upgrade)
        line "$db apply" "$o" "$n"
    fi
}

for db in $DBS; do
    case $db in
        sqlite)
            series sqlite "sqlite://$OUT/head.sqlite3" "sqlite://$OUT/apply.sqlite3" \
                "rm -f $OUT/apply.sqlite3"
            ;;
        mariadb)
            $MYSQL_ADMIN -e "DROP DATABASE IF EXISTS ins_head; CREATE DATABASE ins_head; DROP DATABASE IF EXISTS ins_apply; CREATE DATABASE ins_apply"
            series mariadb "$MYSQL_URL/ins_head" "$MYSQL_URL/ins_apply" \
                "$MYSQL_ADMIN -e 'DROP DATABASE IF EXISTS ins_apply; CREATE DATABASE ins_apply'"
            $MYSQL_ADMIN -e "DROP DATABASE IF EXISTS ins_head; DROP DATABASE IF EXISTS ins_apply"
            ;;
        *) echo "instructions.sh: unknown database $db" >&2; exit 2 ;;
    esac
done
