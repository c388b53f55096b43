#!/usr/bin/env bash
# ddl_plan.sh - the DDL plan (issue 28): what it costs on aurweb's tables, and how close the
# estimate calibrated on this server comes to the real time of a rebuild and a copy (MariaDB).
#
# The database: aurweb's head schema (migrations/, built by `upgrade`), then ROWS PackageDepends
# rows (foreign key checks off, as a restore would; PackageDepends has no primary key).
#
# SERIES
#   cost      a pending migration with one ALTER per aurweb table (`ADD COLUMN bench_c INT`,
#             all of them, INSTANT): `upgrade --dry-run` vs `upgrade --dry-run --no-probes`
#             (hyperfine, RUNS runs), and the rehearsal's parts from `-vv`.
#   estimate  a pending migration of `ALTER TABLE PackageDepends FORCE` (INPLACE rebuild) and a
#             narrowing `MODIFY DepCondition VARCHAR(200)` (COPY): the dry run's calibrated
#             estimates (and the calibration's own cost, `-vv`), then each statement run by the
#             client with the planned clause, timed (the COPY last: it changes the table).
#
# RUN
#   bash benches/ddl_plan.sh                  # debug build of this tree, both series
#   ROWS=200000 SERIES=estimate bash benches/ddl_plan.sh
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERIES=${SERIES:-cost estimate}
RUNS=${RUNS:-10}
ROWS=${ROWS:-500000}
PROFILE=${PROFILE:-debug}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
MYSQL_ADMIN=${MYSQL_ADMIN:-mariadb -h127.0.0.1 -P3306 -uroot}
MYSQL_URL=${MYSQL_URL:-mysql://root@127.0.0.1:3306}
MYSQL_DB=${MYSQL_DB:-ddl_plan_bench}
OUT=${OUT:-$(mktemp -d /tmp/aurweb-migrate-ddl-plan.XXXXXX)}
command -v hyperfine >/dev/null || { echo "ddl_plan.sh: needs hyperfine" >&2; exit 2; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

if [ "$PROFILE" = release ]; then
    (cd "$ROOT" && cargo build --release --locked --quiet)
else
    (cd "$ROOT" && cargo build --locked --quiet)
fi
BIN=$CARGO_TARGET_DIR/$PROFILE/aurweb-migrate
URL=$MYSQL_URL/$MYSQL_DB
SQL() { $MYSQL_ADMIN -N "$MYSQL_DB" -e "$1"; }
cd "$OUT" # no aurweb-migrate.toml to pick up here

{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -r)"
    echo "binary: $BIN ($PROFILE, $("$BIN" --version)), tree $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet || echo +changes)"
    echo "mariadb: $($MYSQL_ADMIN -N -e 'SELECT VERSION()')"
    echo "rows: $ROWS PackageDepends"
} | tee "$OUT/machine.txt"

fresh() { # builds the head schema and fills PackageDepends
    $MYSQL_ADMIN -e "DROP DATABASE IF EXISTS $MYSQL_DB; CREATE DATABASE $MYSQL_DB"
    rm -rf "$OUT/m" "$OUT/schema"
    cp -r "$ROOT/migrations" "$OUT/m"
    cp -r "$ROOT/schema" "$OUT/schema"
    "$BIN" upgrade --database-url "$URL" --migrations "$OUT/m" >/dev/null
    SQL "SET SESSION foreign_key_checks = 0; INSERT INTO PackageDepends (PackageID, DepTypeID, DepName, DepCondition) SELECT 1 + seq DIV 10, 1 + seq % 4, CONCAT('dep', seq * 7919 % 50000), CASE WHEN seq % 3 = 0 THEN '>=1.0' END FROM seq_1_to_$ROWS; ANALYZE TABLE PackageDepends" >/dev/null
}

pending() { # FILE CONTENT: a pending migration after the head
    local last
    last=$(ls "$OUT/m" | sed -n 's/^\([0-9]*\)_.*/\1/p' | sort -n | tail -1)
    printf '%s\n' "$2" >"$OUT/m/$(printf '%04d' $((10#$last + 1)))_$1.mysql.sql"
}

if [[ " $SERIES " == *" cost "* ]]; then
    fresh
    tables=$(SQL "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME <> 'aurweb_migrations' ORDER BY TABLE_NAME")
    body="-- Benchmark: one ALTER per aurweb table."
    n=0
    for t in $tables; do
        body+=$'\n'"ALTER TABLE \`$t\` ADD COLUMN bench_c INT;"
        n=$((n + 1))
    done
    pending every_table "$body"
    echo "cost: $n ALTER statements" | tee -a "$OUT/machine.txt"
    "$BIN" upgrade --dry-run --database-url "$URL" --migrations "$OUT/m" --format json >"$OUT/cost-plan.json"
    hyperfine -N --warmup 1 --runs "$RUNS" --export-markdown "$OUT/cost.md" \
        -n "dry-run (plan)" "$BIN upgrade --dry-run --database-url $URL --migrations $OUT/m" \
        -n "dry-run --no-probes" "$BIN upgrade --dry-run --no-probes --database-url $URL --migrations $OUT/m"
    RUST_LOG=aurweb_migrate=debug "$BIN" upgrade --dry-run --database-url "$URL" --migrations "$OUT/m" 2>&1 >/dev/null | grep -E ' (rehearsal|plan) ' | tee "$OUT/cost-split.txt"
fi

if [[ " $SERIES " == *" estimate "* ]]; then
    fresh
    pending rebuild "-- Benchmark: a rebuild and a copy of the largest table.
ALTER TABLE PackageDepends FORCE;
ALTER TABLE PackageDepends MODIFY DepCondition VARCHAR(200);"
    RUST_LOG=aurweb_migrate=debug "$BIN" upgrade --dry-run --format json --database-url "$URL" --migrations "$OUT/m" >"$OUT/estimate-plan.json" 2>"$OUT/estimate-vv.log"
    grep -E ' (calibration|plan|rehearsal) ' "$OUT/estimate-vv.log" | tee "$OUT/estimate-split.txt"
    python3 - "$OUT/estimate-plan.json" <<'PY' | tee "$OUT/estimate-plan.txt"
import json, sys
for d in json.load(open(sys.argv[1]))["ddl"]:
    print(d["line"], d["algorithm"], d["lock"], d["rows"], d["bytes"], d["estimate_s"], d["estimate_method"])
PY
    timed() { # SQL
        local s e
        s=$(date +%s.%N)
        SQL "$1" >/dev/null
        e=$(date +%s.%N)
        python3 -c "print(f'{$e - $s:.2f}')"
    }
    echo "real FORCE (INPLACE, LOCK=NONE): $(timed 'ALTER TABLE PackageDepends FORCE, ALGORITHM=INPLACE, LOCK=NONE') s" | tee -a "$OUT/estimate-plan.txt"
    echo "real MODIFY (COPY, LOCK=SHARED): $(timed 'ALTER TABLE PackageDepends MODIFY DepCondition VARCHAR(200), ALGORITHM=COPY, LOCK=SHARED') s" | tee -a "$OUT/estimate-plan.txt"
fi

$MYSQL_ADMIN -e "DROP DATABASE IF EXISTS $MYSQL_DB"
echo "results in $OUT"
