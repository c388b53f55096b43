#!/usr/bin/env bash
# inserts.sh - one migration of N one-row INSERTs after a CREATE TABLE (N=20000 by default),
# side by side in one hyperfine run per dialect:
#   ours        aurweb-migrate upgrade (the file is stepwise on MySQL: the CREATE TABLE commits
#               implicitly; the INSERTs after it are one group)
#   old         the same with OLD=/path/to/an/older/aurweb-migrate (optional)
#   client      the raw client running the file as is (mariadb: autocommit, one commit per
#               INSERT; sqlite3: likewise)
#   client-1tx  the raw client with the same statements inside one explicit transaction
# Each run starts from an empty database (reset in --prepare, not timed).
#
# NEEDS hyperfine, sqlite3, a mariadb client and server ($MYSQL_HOST:$MYSQL_PORT, root without
# a password); a release build.   RUN  bash benches/inserts.sh   (RUNS=5, N=20000, OUT=dir)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-${CARGO_TARGET_DIR:-$REPO/target}/release/aurweb-migrate}
OLD=${OLD:-}
N=${N:-20000}
RUNS=${RUNS:-5}
MYSQL_HOST=${MYSQL_HOST:-127.0.0.1}
MYSQL_PORT=${MYSQL_PORT:-3306}
OUT=${OUT:-$(mktemp -d /tmp/aurweb-migrate-inserts.XXXXXX)}
DB=inserts_bench
MYSQL="mariadb -h $MYSQL_HOST -P $MYSQL_PORT -u root"
mkdir -p "$OUT/migrations" && cd "$OUT"
python3 - "$N" <<'PY'
import sys
n = int(sys.argv[1])
rows = "".join(f"INSERT INTO t (id, name) VALUES ({i}, 'row {i}');\n" for i in range(n))
open("migrations/0001_inserts.sql", "w").write("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(32) NOT NULL);\n" + rows)
open("one-tx.sql", "w").write("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(32) NOT NULL);\nBEGIN;\n" + rows + "COMMIT;\n")
PY
echo "files in $OUT; $N INSERTs; $("$BIN" --version)"

echo "== SQLite"
SERIES=(-n ours "$BIN -m migrations -d sqlite://$OUT/t.db upgrade -q")
[ -n "$OLD" ] && SERIES+=(-n old "$OLD -m migrations -d sqlite://$OUT/t.db upgrade -q")
SERIES+=(-n client "sqlite3 t.db < migrations/0001_inserts.sql" -n client-1tx "sqlite3 t.db < one-tx.sql")
hyperfine -w 1 -r "$RUNS" --prepare "rm -f t.db" "${SERIES[@]}" --export-markdown sqlite.md

echo "== MariaDB"
RESET="$MYSQL -e 'DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB'"
URL="mysql://root@$MYSQL_HOST:$MYSQL_PORT/$DB"
SERIES=(-n ours "$BIN -m migrations -d $URL upgrade -q")
[ -n "$OLD" ] && SERIES+=(-n old "$OLD -m migrations -d $URL upgrade -q")
SERIES+=(-n client "$MYSQL $DB < migrations/0001_inserts.sql" -n client-1tx "$MYSQL $DB < one-tx.sql")
hyperfine -w 1 -r "$RUNS" --prepare "$RESET" "${SERIES[@]}" --export-markdown mysql.md
$MYSQL -e "DROP DATABASE IF EXISTS $DB"
