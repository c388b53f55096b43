#!/usr/bin/env bash
# autogen.sh - time `new --autogenerate` on aurweb's repository (30 tables, the full history)
# against the raw clients doing only the DDL it needs, and against `alembic revision
# --autogenerate` on the same change, side by side in one hyperfine run per dialect.
#
# The change: one column, Users.FooNote, added after BackupEmail.
#
# Series (SQLite, then MariaDB):
#   ours         aurweb-migrate new --autogenerate: builds the schema and a replay of every
#                migration in two scratch databases (at once), reads both back, writes the
#                draft, applies it to the replay and compares again, then writes the files.
#                SQLite alone: a copy of the repository whose schema/ holds only sqlite.sql
#                (edited the same way), so that no server is involved.
#   floor        the raw client (sqlite3 / mariadb) running the DDL of the two scratch
#                databases one after the other: the schema file, then every migration.
#   alembic      alembic revision --autogenerate, comparing a database at the head with
#                MetaData reflected from a database built from the edited schema; both
#                databases are built before the series and not timed (alembic gets them
#                for free; ours builds its own). Skipped when $ALEMBIC is missing.
# The tool's own share (introspect + diff + render) comes from one `--format json` run's
# `timings`, printed after the tables.
#
# NEEDS hyperfine, sqlite3, a mariadb client and server ($MYSQL_HOST:$MYSQL_PORT, user root,
# no password, rights to CREATE/DROP databases); a release build (cargo build --release);
# alembic optional: python3 -m venv /opt/alembic-venv &&
#   /opt/alembic-venv/bin/pip install alembic sqlalchemy pymysql
#
# RUN   bash benches/autogen.sh          (RUNS=20 for more runs; OUT=dir to keep the files)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-${CARGO_TARGET_DIR:-$REPO/target}/release/aurweb-migrate}
ALEMBIC=${ALEMBIC:-/opt/alembic-venv/bin/alembic}
MYSQL_HOST=${MYSQL_HOST:-127.0.0.1}
MYSQL_PORT=${MYSQL_PORT:-3306}
RUNS=${RUNS:-10}
OUT=${OUT:-$(mktemp -d /tmp/aurweb-migrate-autogen.XXXXXX)}
DB=autogen_bench
URL="mysql://root@$MYSQL_HOST:$MYSQL_PORT/$DB"
MYSQL=(mariadb -h "$MYSQL_HOST" -P "$MYSQL_PORT" -u root)

[ -x "$BIN" ] || { echo "no release build at $BIN (cargo build --release)" >&2; exit 2; }
mkdir -p "$OUT" && cd "$OUT"
echo "files in $OUT; binary $BIN ($("$BIN" --version))"

# The migrations of one dialect, in version order: the dialect's variant, else the portable file.
files_for() {
    local dialect=$1 dir=$2
    for v in $(ls "$dir" | grep -E '^[0-9]+_' | cut -d_ -f1 | sort -u); do
        local f
        f=$(ls "$dir" | grep -E "^${v}_.*\.${dialect}\.sql$" | grep -v '\.down\.' || true)
        [ -n "$f" ] || f=$(ls "$dir" | grep -E "^${v}_[^.]*\.sql$" || true)
        echo "$dir/$f"
    done
}

add_column() { # file, the line after which FooNote goes
    python3 - "$1" "$2" <<'EOF'
import sys
path, after = sys.argv[1], sys.argv[2]
text = open(path).read()
assert after + "\n" in text, after
open(path, "w").write(text.replace(after + "\n", after + "\n\tFooNote VARCHAR(100) NOT NULL DEFAULT 'x',\n", 1))
EOF
}

rm -rf base && mkdir -p base/both base/sqlite/schema
cp -r "$REPO/migrations" "$REPO/schema" base/both/
add_column base/both/schema/mysql.sql $'\tBackupEmail VARCHAR(254) NULL DEFAULT NULL,'
cp -r "$REPO/migrations" base/sqlite/
grep -v '^-- Generated from mysql.sql' "$REPO/schema/sqlite.sql" > base/sqlite/schema/sqlite.sql
add_column base/sqlite/schema/sqlite.sql $'\tBackupEmail VARCHAR(254) NULL,'

# Alembic: MetaData reflected from the target database, compared with a database at the head.
if [ -x "$ALEMBIC" ]; then
    rm -rf alembic && mkdir alembic && (cd alembic && "$ALEMBIC" init env >/dev/null)
    cat > alembic/env/env.py <<'EOF'
import os
from alembic import context
from sqlalchemy import MetaData, create_engine

target = MetaData()
target.reflect(bind=create_engine(os.environ["TARGET_URL"]))
with create_engine(os.environ["LIVE_URL"]).connect() as conn:
    context.configure(connection=conn, target_metadata=target,
                      compare_type=True, compare_server_default=True)
    with context.begin_transaction():
        context.run_migrations()
EOF
fi

report_timings() { # JSON of one run
    python3 -c '
import json, sys
for t in json.load(sys.stdin)["timings"]:
    own = t["introspect_ms"] + t["generate_ms"]
    print("  %s: scratch builds %.1f ms (server DDL), introspect %.1f + generate %.2f = tool share %.1f ms, self-check %.1f ms"
          % (t["dialect"], t["scratch_ms"], t["introspect_ms"], t["generate_ms"], own, t["self_check_ms"]))
'
}

# ---- SQLite -----------------------------------------------------------------------------
echo; echo "== SQLite =="
SQLITE_FILES=$(files_for sqlite base/sqlite/migrations | tr '\n' ' ')
# Each file in one transaction, as the tool runs them.
in_transactions() { for f in "$@"; do echo "BEGIN;"; cat "$f"; echo "COMMIT;"; done; }
in_transactions $SQLITE_FILES > replay-sqlite.sql
in_transactions base/sqlite/schema/sqlite.sql > schema-sqlite.sql
cat > floor-sqlite.sh <<EOF
rm -f a.db b.db
sqlite3 a.db < schema-sqlite.sql
sqlite3 b.db < replay-sqlite.sql
EOF
SERIES=(
    -n ours "rm -rf w && cp -r base/sqlite w && $BIN -m w/migrations --schema w/schema new --autogenerate add_foonote >/dev/null"
    -n floor "bash floor-sqlite.sh"
)
if [ -x "$ALEMBIC" ]; then
    rm -f alembic/a.db alembic/b.db
    sqlite3 alembic/a.db < schema-sqlite.sql
    sqlite3 alembic/b.db < replay-sqlite.sql
    SERIES+=(-n alembic "rm -f alembic/env/versions/*.py; cd alembic && TARGET_URL=sqlite:///a.db LIVE_URL=sqlite:///b.db $ALEMBIC revision --autogenerate -m add_foonote >/dev/null 2>&1")
fi
hyperfine -w 2 -r "$RUNS" "${SERIES[@]}" --export-markdown sqlite.md
rm -rf w && cp -r base/sqlite w
"$BIN" -m w/migrations --schema w/schema --format json new --autogenerate add_foonote | report_timings

# ---- MariaDB ----------------------------------------------------------------------------
echo; echo "== MariaDB =="
MYSQL_FILES=$(files_for mysql base/both/migrations | tr '\n' ' ')
cat > floor-mysql.sh <<EOF
${MYSQL[*]} -e "DROP DATABASE IF EXISTS ${DB}_a; DROP DATABASE IF EXISTS ${DB}_b; CREATE DATABASE ${DB}_a CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci; CREATE DATABASE ${DB}_b CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
${MYSQL[*]} ${DB}_a < base/both/schema/mysql.sql
cat $MYSQL_FILES | ${MYSQL[*]} ${DB}_b
EOF
"${MYSQL[@]}" -e "CREATE DATABASE IF NOT EXISTS $DB"
SERIES=(
    -n ours "rm -rf w && cp -r base/both w && $BIN -d $URL -m w/migrations --schema w/schema new --autogenerate add_foonote >/dev/null"
    -n floor "bash floor-mysql.sh"
)
if [ -x "$ALEMBIC" ]; then
    bash floor-mysql.sh
    A="mysql+pymysql://root@$MYSQL_HOST:$MYSQL_PORT/${DB}_a"
    B="mysql+pymysql://root@$MYSQL_HOST:$MYSQL_PORT/${DB}_b"
    SERIES+=(-n alembic "rm -f alembic/env/versions/*.py; cd alembic && TARGET_URL=$A LIVE_URL=$B $ALEMBIC revision --autogenerate -m add_foonote >/dev/null 2>&1")
fi
hyperfine -w 2 -r "$RUNS" "${SERIES[@]}" --export-markdown mysql.md
rm -rf w && cp -r base/both w
"$BIN" -d "$URL" -m w/migrations --schema w/schema --format json new --autogenerate add_foonote | report_timings
if [ -x "$ALEMBIC" ]; then
    echo "alembic's draft (MariaDB):"
    grep -E "op\.|def " alembic/env/versions/*.py | sed 's/^/  /'
fi
"${MYSQL[@]}" -e "DROP DATABASE IF EXISTS $DB; DROP DATABASE IF EXISTS ${DB}_a; DROP DATABASE IF EXISTS ${DB}_b"
