#!/usr/bin/env bash
# schema.sh - how long aurweb-migrate takes to build aurweb's database, by both roads, next to
# the raw client loading the same SQL. One hyperfine run per dialect, side by side:
#
#   floor-schema   sqlite3 DB < schema/sqlite.sql        | mariadb DB < schema/mysql.sql
#   ours-schema    aurweb-migrate upgrade                 (empty database -> built from schema/)
#   floor-replay   the client fed every migration of the dialect, in order, in one stream
#   ours-replay    aurweb-migrate upgrade --replay       (every migration, with its history row)
#   ours-verify    aurweb-migrate verify                  (both roads on scratch databases and
#                                                          the comparison; SQLite-only run
#                                                          for the sqlite series)
#
# Every timed run starts from an empty database (hyperfine --prepare, untimed).
#
# RUN (from anywhere; needs hyperfine, sqlite3, python3, cargo; for MariaDB a mariadb client
# and a server reachable as $MYSQL_ADMIN)
#   bash benches/schema.sh                 # both dialects
#   DBS=sqlite bash benches/schema.sh      # SQLite only
# KNOBS: RUNS (default 20), WARMUP (3), CARGO_TARGET_DIR (default /work/target-bench),
#   MYSQL_ADMIN (default "mariadb -uroot -h127.0.0.1 -P3306"),
#   MYSQL_URL (default mysql://root@127.0.0.1:3306/aurweb_bench), OUT (default /tmp/schema-bench)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${RUNS:-20}
WARMUP=${WARMUP:-3}
DBS=${DBS:-"sqlite mariadb"}
OUT=${OUT:-/tmp/schema-bench}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target-bench}
MYSQL_ADMIN=${MYSQL_ADMIN:-"mariadb -uroot -h127.0.0.1 -P3306"}
MYSQL_URL=${MYSQL_URL:-mysql://root@127.0.0.1:3306/aurweb_bench}
MYSQL_DB=${MYSQL_URL##*/}

mkdir -p "$OUT"
(cd "$ROOT" && cargo build --release --locked --quiet)
BIN="$CARGO_TARGET_DIR/release/aurweb-migrate"
M="$ROOT/migrations"
S="$ROOT/schema"

# Every migration of a dialect in version order: the dialect's variant, else the portable file.
replay_sql() {
    python3 - "$M" "$1" <<'PY'
import os, re, sys
d, dialect = sys.argv[1], sys.argv[2]
files = {}
for f in os.listdir(d):
    m = re.fullmatch(r"(\d+)_[a-z0-9_]+(\.(mysql|sqlite))?\.sql", f)
    if not m:
        continue
    v = int(m.group(1))
    if m.group(3) == dialect or (m.group(3) is None and v not in files):
        files[v] = f
for v in sorted(files):
    sys.stdout.write(open(os.path.join(d, files[v])).read() + "\n")
PY
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%Y-%m-%dT%H:%MZ)"
echo "binary:  $BIN ($("$BIN" --version))"

if [[ " $DBS " == *" sqlite "* ]]; then
    replay_sql sqlite >"$OUT/replay.sqlite.sql"
    DB="$OUT/bench.sqlite3"
    reset="rm -f $DB $DB-journal"
    hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --prepare "$reset" \
        --export-markdown "$OUT/sqlite.md" --export-json "$OUT/sqlite.json" \
        -n floor-schema "sh -c 'sqlite3 $DB < $S/sqlite.sql'" \
        -n ours-schema "$BIN -m $M --schema $S -d sqlite://$DB upgrade -q" \
        -n floor-replay "sh -c 'sqlite3 $DB < $OUT/replay.sqlite.sql'" \
        -n ours-replay "$BIN -m $M --schema $S -d sqlite://$DB upgrade --replay -q" \
        -n ours-verify "$BIN -m $M --schema $S -d sqlite://$DB verify -q"
    cat "$OUT/sqlite.md"
fi

if [[ " $DBS " == *" mariadb "* ]]; then
    replay_sql mysql >"$OUT/replay.mysql.sql"
    reset="$MYSQL_ADMIN -e 'DROP DATABASE IF EXISTS $MYSQL_DB; CREATE DATABASE $MYSQL_DB CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci'"
    client="$MYSQL_ADMIN $MYSQL_DB"
    hyperfine --warmup "$WARMUP" --runs "$RUNS" --prepare "$reset" \
        --export-markdown "$OUT/mariadb.md" --export-json "$OUT/mariadb.json" \
        -n floor-schema "$client < $S/mysql.sql" \
        -n ours-schema "$BIN -m $M --schema $S -d $MYSQL_URL upgrade -q" \
        -n floor-replay "$client < $OUT/replay.mysql.sql" \
        -n ours-replay "$BIN -m $M --schema $S -d $MYSQL_URL upgrade --replay -q" \
        -n ours-verify "$BIN -m $M --schema $S -d $MYSQL_URL verify -q"
    sh -c "$MYSQL_ADMIN -e 'DROP DATABASE IF EXISTS $MYSQL_DB'"
    cat "$OUT/mariadb.md"
fi
