#!/usr/bin/env bash
# compare.sh - two aurweb-migrate binaries side by side, in one hyperfine run per series, so
# that a change can be checked for a slowdown on a noisy machine: the ratio is what counts.
#
# SERIES (each on SQLite and on MariaDB, N migrations from shared/bench/gen_migrations.py)
#   status   `status` on an up-to-date database (N applied)
#   noop     `upgrade` on it (nothing to do)
#   apply    `upgrade` of an empty database to the head (N migrations); the database is
#            reset before every run (untimed, hyperfine --prepare)
#
# RUN
#   OLD=/path/to/old/aurweb-migrate NEW=/path/to/new/aurweb-migrate bash benches/compare.sh
#   e.g. with the binaries of two commits:
#     git worktree add /tmp/old COMMIT && (cd /tmp/old && CARGO_TARGET_DIR=/tmp/t-old cargo build --release)
#     cargo build --release
#     OLD=/tmp/t-old/release/aurweb-migrate NEW=target/release/aurweb-migrate bash benches/compare.sh
#
# KNOBS (environment)
#   N (1000)  RUNS (20, status and noop)  APPLY_RUNS (5 SQLite, 3 MariaDB)
#   DBS ("sqlite mariadb")  MYSQL_URL (mysql://root@127.0.0.1:3306, root without password)
#   MYSQL_ADMIN ("mariadb -h127.0.0.1 -P3306 -uroot")  OUT (a fresh directory under /tmp)
#   GEN (gen_migrations.py: beside the repository in ../shared/bench, else /work/shared/bench)
# Needs hyperfine, python3, sqlite3 (not used for timing), and for MariaDB a running server and
# the mariadb client. Only 127.0.0.1 is reached. Writes OUT/<db>-<series>.md and prints the
# summary lines ("X ran 1.02 ± 0.03 times faster than Y").
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${OLD:?set OLD to the old binary}"
: "${NEW:?set NEW to the new binary}"
N=${N:-1000}
RUNS=${RUNS:-20}
DBS=${DBS:-sqlite mariadb}
MYSQL_URL=${MYSQL_URL:-mysql://root@127.0.0.1:3306}
MYSQL_ADMIN=${MYSQL_ADMIN:-mariadb -h127.0.0.1 -P3306 -uroot}
OUT=${OUT:-$(mktemp -d /tmp/aurweb-migrate-compare.XXXXXX)}
GEN=${GEN:-}
if [ -z "$GEN" ]; then
    for g in "$here/../../shared/bench/gen_migrations.py" /work/shared/bench/gen_migrations.py; do
        if [ -f "$g" ]; then GEN=$g; break; fi
    done
fi
[ -f "$GEN" ] || { echo "compare.sh: gen_migrations.py not found (set GEN)" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "compare.sh: needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
# Run where no aurweb-migrate.toml or ./migrations can be picked up (before the fix to -m's
# schema, a config file in the working directory paired its schema with -m's migrations).
cd "$OUT"
python3 "$GEN" "$OUT/gen" "$N" >/dev/null
M=$OUT/gen/plain
{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r)"
    echo "old: $OLD ($("$OLD" --version))"
    echo "new: $NEW ($("$NEW" --version))"
    echo "N: $N migrations"
} | tee "$OUT/machine.txt"

series() { # NAME URL_OF_HEAD APPLY_URL RESET_COMMAND APPLY_RUNS
    local db=$1 head=$2 apply=$3 reset=$4 apply_runs=$5
    "$NEW" -q -m "$M" -d "$head" upgrade
    for s in status noop; do
        local args=status
        [ "$s" = noop ] && args="-q upgrade"
        hyperfine -N --warmup 3 --runs "$RUNS" --export-markdown "$OUT/$db-$s.md" \
            -n "old $s" "$OLD -m $M -d $head $args" \
            -n "new $s" "$NEW -m $M -d $head $args" | tee "$OUT/$db-$s.txt"
    done
    hyperfine --runs "$apply_runs" --prepare "$reset" --export-markdown "$OUT/$db-apply.md" \
        -n "old apply" "$OLD -q -m $M -d $apply upgrade" \
        -n "new apply" "$NEW -q -m $M -d $apply upgrade" | tee "$OUT/$db-apply.txt"
}

for db in $DBS; do
    case $db in
        sqlite)
            series sqlite "sqlite://$OUT/head.sqlite3" "sqlite://$OUT/apply.sqlite3" \
                "rm -f $OUT/apply.sqlite3" "${APPLY_RUNS:-5}"
            ;;
        mariadb)
            $MYSQL_ADMIN -e "DROP DATABASE IF EXISTS cmp_head; CREATE DATABASE cmp_head; DROP DATABASE IF EXISTS cmp_apply; CREATE DATABASE cmp_apply"
            series mariadb "$MYSQL_URL/cmp_head" "$MYSQL_URL/cmp_apply" \
                "$MYSQL_ADMIN -e 'DROP DATABASE IF EXISTS cmp_apply; CREATE DATABASE cmp_apply'" \
                "${APPLY_RUNS:-3}"
            $MYSQL_ADMIN -e "DROP DATABASE IF EXISTS cmp_head; DROP DATABASE IF EXISTS cmp_apply"
            ;;
        *) echo "compare.sh: unknown database $db" >&2; exit 2 ;;
    esac
done
echo "== summary ($OUT)"
grep -h -A1 "ran$" "$OUT"/*.txt 2>/dev/null || grep -h "times faster" "$OUT"/*.txt
