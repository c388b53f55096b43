#!/usr/bin/env bash
# bench.sh - performance figures for aurweb-migrate on SQLite and MariaDB, against
# its peers and against the sqlite3 / mariadb clients ("floor": the same SQL, no
# migration tool).
#
# WHAT IT MEASURES (each step can be switched off through STEPS)
#   build     `cargo build --release` of aurweb-migrate into $CARGO_TARGET_DIR
#             (default /work/target-bench, so it does not fight over target/).
#   mysql-user  when DBS names mariadb: make sure peers.sh's MariaDB account
#             exists ($MYSQL_USER/$MYSQL_PASS, default bench/bench, at localhost
#             and 127.0.0.1, ALL on *.*); if it cannot log in, it is created
#             through $MYSQL_ADMIN (default: root without password over
#             $MYSQL_HOST:$MYSQL_PORT). Idempotent; a one-time setup in effect.
#   peers     peers.sh (see PEERS) with OURS=<that binary>, DBS (default
#             "sqlite mariadb"), NS (default 1000), SCENARIOS
#             "startup upgrade status noop heavy":
#               startup  --version;  upgrade  empty -> head, N migrations;
#               status   on an up-to-date database;  noop  `upgrade` at head;
#               heavy    one ~20 MB migration (200,000 rows), empty -> head;
#             for aurweb-migrate, the floor (sqlite3 shell / mariadb client) and
#             every peer found (alembic, sqlx-cli, dbmate, refinery_cli).
#             Medians, peak RSS; report.md. MariaDB: a fresh database per run,
#             over loopback TCP; peers.sh raises max_allowed_packet to 64 MB for
#             the heavy migration.
#   single    (SQLite only) one hyperfine run, side by side, applying $ST_N
#             migrations to an empty SQLite file (reset before every run, untimed):
#               floor   sqlite3 DB '.read floor/all.sql' (BEGIN/COMMIT per migration)
#               ours    aurweb-migrate ... upgrade            (if ST_PLAIN=1)
#               ours-st aurweb-migrate ... upgrade --single-transaction
#               floor-1tx  sqlite3 with the same SQL in ONE BEGIN/COMMIT (if
#                       ST_ONE_TX=1): what SQLite itself needs, for reference
#             Target: ours-st <= 0.3 x floor.
#   rss       (SQLite only; peers gives MariaDB's) peak RSS (GNU time %M, KiB) of the heavy 20 MB migration, $RSS_RUNS
#             runs each of aurweb-migrate and of the sqlite3 floor.
#             Target: <= 60 MB for aurweb-migrate.
#   splitter  `cargo bench --bench splitter_throughput` when benches/
#             splitter_throughput.rs exists (skipped otherwise). Target >= 200 MB/s.
#
# RUN (from anywhere; needs hyperfine, GNU time, sqlite3, python3, cargo, and for
# MariaDB a mariadb client and a server at $MYSQL_HOST:$MYSQL_PORT)
#   bash benches/bench.sh                        # everything, all peers, one pass
#   PASSES=3 TOOLS="floor ours sqlx" SCENARIOS="upgrade status noop heavy" \
#     bash benches/bench.sh                      # the figures of docs/BENCHMARKS.md (~14 min)
#   NS="100 1000" bash benches/bench.sh          # also N=100 in peers.sh
#   STEPS="build single rss" bash benches/bench.sh   # only our own series
#   DBS=sqlite bash benches/bench.sh             # SQLite only (no MariaDB server)
#   DBS=mariadb TOOLS="floor ours sqlx" SCENARIOS="upgrade status noop heavy" \
#     STEPS="build peers" bash benches/bench.sh  # the MariaDB key series
#   bash benches/bench.sh mysql-user             # only create the bench account
#   TOOLS="floor ours sqlx" SCENARIOS="status noop" STEPS="build peers" bash benches/bench.sh
# Peers are installed as peers.sh's header says; a missing one is skipped.
#
# KNOBS (environment)
#   STEPS        steps to run (default "build mysql-user peers single rss splitter")
#   PEERS        path of peers.sh (default $ROOT/../shared/bench/peers.sh, i.e.
#                beside the repository; else /work/shared/bench/peers.sh);
#                gen_migrations.py is taken from beside it
#   DBS          databases for peers.sh (default "sqlite mariadb")
#   MYSQL_HOST MYSQL_PORT MYSQL_USER MYSQL_PASS  passed on to peers.sh
#                (defaults 127.0.0.1 3306 bench bench)
#   MYSQL_ADMIN  client command used by mysql-user to create the account
#                (default "mariadb -h$MYSQL_HOST -P$MYSQL_PORT -uroot")
#   CARGO_TARGET_DIR  build directory (default /work/target-bench)
#   OURS         use this binary instead of building (the build step is skipped)
#   WORK         scratch space, shared with peers.sh (default /tmp/aurweb-migrate-bench)
#   OUT          this run's results (default $WORK/run-YYYYmmdd-HHMMSS); peers.sh
#                writes to $OUT/peers, our own series to $OUT/extra
#   PASSES NS SCENARIOS TOOLS RUNS WARMUP ...  passed on to peers.sh
#   ST_N (1000)  ST_RUNS (5)  ST_WARMUP (1)  ST_PLAIN (1)  ST_ONE_TX (1)  the single step
#   RSS_RUNS (3)                                          the rss step
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
if [ -z "${PEERS:-}" ]; then
  PEERS=$ROOT/../shared/bench/peers.sh
  [ -f "$PEERS" ] || PEERS=/work/shared/bench/peers.sh
fi
GEN=${GEN:-$(dirname "$PEERS")/gen_migrations.py}
STEPS=${STEPS:-"build mysql-user peers single rss splitter"}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target-bench}
export WORK=${WORK:-/tmp/aurweb-migrate-bench}
OUT=${OUT:-$WORK/run-$(date +%Y%m%d-%H%M%S)}
export PASSES=${PASSES:-1}
export NS=${NS:-1000}
export SCENARIOS=${SCENARIOS:-"startup upgrade status noop heavy"}
export DBS=${DBS:-"sqlite mariadb"}
export MYSQL_HOST=${MYSQL_HOST:-127.0.0.1}
export MYSQL_PORT=${MYSQL_PORT:-3306}
export MYSQL_USER=${MYSQL_USER:-bench}
export MYSQL_PASS=${MYSQL_PASS:-bench}
MARIADB=${MARIADB:-$(command -v mariadb || command -v mysql || true)}
MYSQL_ADMIN=${MYSQL_ADMIN:-"$MARIADB -h$MYSQL_HOST -P$MYSQL_PORT -uroot"}
ST_N=${ST_N:-1000}
ST_RUNS=${ST_RUNS:-5}
ST_WARMUP=${ST_WARMUP:-1}
ST_PLAIN=${ST_PLAIN:-1}
ST_ONE_TX=${ST_ONE_TX:-1}
RSS_RUNS=${RSS_RUNS:-3}
GNU_TIME=${GNU_TIME:-/usr/bin/time}
SQLITE3=${SQLITE3:-$(command -v sqlite3 || true)}
OURS=${OURS:-}

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
want() { case " $STEPS " in *" $1 "*) return 0 ;; esac; return 1; }
die() { log "error: $*"; exit 2; }

need() {
  local c
  for c in "$@"; do command -v "$c" >/dev/null 2>&1 || die "$c not found"; done
}

# Generated migrations, in the same place and by the same script as peers.sh.
ensure_tree() { # TAG (N or heavy) -> directory
  local dir="$WORK/mig/$1"
  if [ ! -f "$dir/.done" ]; then
    rm -rf "$dir"
    python3 "$GEN" "$dir" "$1" >&2 && touch "$dir/.done"
  fi
  echo "$dir"
}

reset_db() { rm -f "$1" "$1-wal" "$1-shm" "$1-journal" && : >"$1"; }

count_tables() {
  python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute(\"select count(*) from sqlite_master where type='table' and name like 't\\_%' escape '\\\\'\").fetchone()[0])" "$1"
}

count_big() {
  python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute('select count(*) from big').fetchone()[0])" "$1" 2>/dev/null || echo 0
}

step_build() {
  if [ -n "$OURS" ]; then
    log "build: skipped, OURS=$OURS"
  else
    need cargo
    log "build: cargo build --release into $CARGO_TARGET_DIR"
    cargo build --release --manifest-path "$ROOT/Cargo.toml" >&2
    OURS=$CARGO_TARGET_DIR/release/aurweb-migrate
  fi
  [ -x "$OURS" ] || die "no executable at $OURS"
  log "ours: $OURS ($("$OURS" --version 2>&1))"
  # which source it was built from (others edit the tree while we measure)
  {
    echo "binary: $OURS"
    echo "version: $("$OURS" --version 2>&1)"
    echo "built: $(date -u -r "$OURS" +%Y-%m-%dT%H:%M:%SZ)"
    echo "sha256: $(sha256sum "$OURS" | cut -d' ' -f1)"
    echo "src tree hash: $(cd "$ROOT" && find src Cargo.toml -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)"
  } >"$OUT/ours.txt"
}

has_mariadb() { case " $DBS " in *" mariadb "*) return 0 ;; esac; return 1; }

# peers.sh logs in to MariaDB as $MYSQL_USER/$MYSQL_PASS; create that account
# (at localhost and 127.0.0.1, as peers.sh's header says) when it cannot log in.
step_mysql_user() {
  has_mariadb || { log "mysql-user: DBS has no mariadb, skipped"; return 0; }
  [ -n "$MARIADB" ] || die "mariadb client not found"
  if "$MARIADB" -h"$MYSQL_HOST" -P"$MYSQL_PORT" -u"$MYSQL_USER" -p"$MYSQL_PASS" -e 'select 1' >/dev/null 2>&1; then
    log "mysql-user: $MYSQL_USER can log in at $MYSQL_HOST:$MYSQL_PORT"
    return 0
  fi
  log "mysql-user: creating $MYSQL_USER@localhost and $MYSQL_USER@127.0.0.1 through: $MYSQL_ADMIN"
  local h sql=""
  for h in localhost 127.0.0.1; do
    sql+="CREATE USER IF NOT EXISTS '$MYSQL_USER'@'$h' IDENTIFIED BY '$MYSQL_PASS';"
    sql+="ALTER USER '$MYSQL_USER'@'$h' IDENTIFIED BY '$MYSQL_PASS';"
    sql+="GRANT ALL ON *.* TO '$MYSQL_USER'@'$h';"
  done
  # MYSQL_ADMIN is a command line (client plus its options): split on purpose
  # shellcheck disable=SC2086
  $MYSQL_ADMIN -e "$sql" || die "mysql-user: could not create the account (set MYSQL_ADMIN)"
  "$MARIADB" -h"$MYSQL_HOST" -P"$MYSQL_PORT" -u"$MYSQL_USER" -p"$MYSQL_PASS" -e 'select 1' >/dev/null \
    || die "mysql-user: $MYSQL_USER still cannot log in"
}

step_peers() {
  need hyperfine python3 "$GNU_TIME"
  if has_mariadb; then step_mysql_user; fi
  log "peers: $PEERS (DBS=$DBS, NS=$NS, PASSES=$PASSES, scenarios: $SCENARIOS)"
  RESULTS="$OUT/peers" OURS="$OURS" bash "$PEERS" >"$OUT/peers.log" 2>&1 || log "peers.sh exited $?"
  log "peers: report at $OUT/peers/report.md (log $OUT/peers.log)"
}

# median of a hyperfine JSON's results, by command index
hf_median() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['results'][int(sys.argv[2])]['median'])" "$1" "$2"; }

step_single() {
  need hyperfine python3
  [ -n "$SQLITE3" ] || die "sqlite3 not found"
  local tree dir floor_db ours_db st_db one_db one_sql
  tree=$(ensure_tree "$ST_N")
  dir="$OUT/extra"
  mkdir -p "$dir" "$WORK/db"
  floor_db="$WORK/db/st-floor.sqlite"
  one_db="$WORK/db/st-floor-1tx.sqlite"
  # the floor's SQL with its per-migration BEGIN/COMMIT lines dropped, in one transaction
  one_sql="$tree/floor/all-one-transaction.sql"
  if [ "$ST_ONE_TX" = 1 ] && [ ! -s "$one_sql" ]; then
    { echo "BEGIN;"; grep -v -x -e 'BEGIN;' -e 'COMMIT;' "$tree/floor/all.sql"; echo "COMMIT;"; } >"$one_sql"
  fi
  ours_db="$WORK/db/st-ours.sqlite"
  st_db="$WORK/db/st-ours-st.sqlite"

  # check runs: every command must reach N tables
  local db have
  for db in "$floor_db" "$ours_db" "$st_db"; do reset_db "$db"; done
  "$SQLITE3" "$floor_db" ".read $tree/floor/all.sql" >/dev/null
  "$OURS" --database-url "sqlite://$ours_db" --migrations "$tree/plain" upgrade >"$dir/single-ours.check.txt" 2>&1
  "$OURS" --database-url "sqlite://$st_db" --migrations "$tree/plain" upgrade --single-transaction >"$dir/single-ours-st.check.txt" 2>&1
  for db in "$floor_db" "$ours_db" "$st_db"; do
    have=$(count_tables "$db")
    [ "$have" = "$ST_N" ] || die "single: $db has $have/$ST_N tables after the check run"
  done

  local args=(-N -i --style basic --runs "$ST_RUNS" --warmup "$ST_WARMUP" --export-json "$dir/single.json"
    --export-markdown "$dir/single.md")
  args+=(-n "sqlite3 shell, BEGIN/COMMIT per migration (floor)" --prepare "bash $HERE/bench.sh _reset $floor_db"
    "$SQLITE3 $floor_db '.read $tree/floor/all.sql'")
  args+=(-n "aurweb-migrate upgrade --single-transaction" --prepare "bash $HERE/bench.sh _reset $st_db"
    "$OURS --database-url sqlite://$st_db --migrations $tree/plain upgrade --single-transaction")
  if [ "$ST_PLAIN" = 1 ]; then
    args+=(-n "aurweb-migrate upgrade" --prepare "bash $HERE/bench.sh _reset $ours_db"
      "$OURS --database-url sqlite://$ours_db --migrations $tree/plain upgrade")
  fi
  if [ "$ST_ONE_TX" = 1 ]; then
    args+=(-n "sqlite3 shell, all in ONE transaction (reference)" --prepare "bash $HERE/bench.sh _reset $one_db"
      "$SQLITE3 $one_db '.read $one_sql'")
  fi
  log "single: N=$ST_N, $ST_RUNS runs (+$ST_WARMUP warm-up) each"
  hyperfine "${args[@]}" >"$dir/single.hyperfine.txt" 2>&1 || die "hyperfine failed, see $dir/single.hyperfine.txt"
  python3 - "$dir/single.json" "$ST_N" <<'PY' | tee "$dir/single.summary.txt"
import json, sys
res = json.load(open(sys.argv[1]))["results"]
floor = res[0]["median"]
print(f"applying {sys.argv[2]} migrations to an empty SQLite file (medians of {len(res[0]['times'])} runs)")
for r in res:
    cpu = (r["user"] + r["system"]) * 1000
    print(f"  {r['command']:<55} {r['median']*1000:9.1f} ms  {r['median']/floor:5.2f} x floor"
          f"  (min {r['min']*1000:.1f}, max {r['max']*1000:.1f}; mean cpu {cpu:.0f} ms)")
st = res[1]["median"] / floor
print(f"target --single-transaction <= 0.30 x floor: {st:.2f} x -> {'MET' if st <= 0.30 else 'NOT MET'}")
for r in res:
    if "ONE transaction" in r["command"]:
        print(f"  (SQLite alone, one transaction: {r['median']/floor:.2f} x floor;"
              f" --single-transaction is {res[1]['median']/r['median']:.2f} x that)")
PY
  for db in "$floor_db" "$ours_db" "$st_db" "$one_db"; do rm -f "$db"; done
}

step_rss() {
  need python3 "$GNU_TIME"
  [ -n "$SQLITE3" ] || die "sqlite3 not found"
  local tree dir db i rows
  tree=$(ensure_tree heavy)
  dir="$OUT/extra"
  mkdir -p "$dir" "$WORK/db"
  db="$WORK/db/rss-heavy.sqlite"
  : >"$dir/rss-ours.mem"
  : >"$dir/rss-floor.mem"
  log "rss: heavy migration, $RSS_RUNS runs each"
  for i in $(seq 1 "$RSS_RUNS"); do
    reset_db "$db"
    "$GNU_TIME" -f '%M %e %x' -a -o "$dir/rss-ours.mem" \
      "$OURS" --database-url "sqlite://$db" --migrations "$tree/plain" upgrade >/dev/null 2>&1 || true
    rows=$(count_big "$db")
    [ "$rows" = 200000 ] || log "rss: run $i of aurweb-migrate left $rows/200000 rows"
    reset_db "$db"
    "$GNU_TIME" -f '%M %e %x' -a -o "$dir/rss-floor.mem" \
      "$SQLITE3" "$db" ".read $tree/floor/all.sql" >/dev/null 2>&1 || true
  done
  rm -f "$db"
  python3 - "$dir/rss-ours.mem" "$dir/rss-floor.mem" <<'PY' | tee "$dir/rss.summary.txt"
import statistics, sys
print("peak RSS, one ~20 MB migration (GNU time %M; per run: KiB, wall s, exit code)")
for name, path in (("aurweb-migrate", sys.argv[1]), ("sqlite3 floor", sys.argv[2])):
    rows = [l.split() for l in open(path) if l.strip() and l.split()[0].isdigit()]
    kb = [int(r[0]) for r in rows]
    print(f"  {name:<15} median {statistics.median(kb)/1024:6.1f} MB, max {max(kb)/1024:6.1f} MB,"
          f" wall median {statistics.median(float(r[1]) for r in rows):.2f} s, exits {sorted({r[2] for r in rows})}")
    if name == "aurweb-migrate":
        ok = max(kb) / 1024 <= 60
        print(f"  target peak RSS <= 60 MB: {'MET' if ok else 'NOT MET'}")
PY
}

step_splitter() {
  if [ ! -f "$ROOT/benches/splitter_throughput.rs" ]; then
    log "splitter: benches/splitter_throughput.rs absent, skipped"
    return 0
  fi
  need cargo
  mkdir -p "$OUT/extra"
  log "splitter: cargo bench --bench splitter_throughput"
  if cargo bench --manifest-path "$ROOT/Cargo.toml" --bench splitter_throughput \
    >"$OUT/extra/splitter.txt" 2>"$OUT/extra/splitter.stderr"; then
    cat "$OUT/extra/splitter.txt"
  else
    log "splitter: cargo bench failed (see $OUT/extra/splitter.stderr)"
  fi
}

main() {
  mkdir -p "$OUT"
  log "steps: $STEPS; results: $OUT"
  # every step needs the binary; the build step makes it, else OURS must be set
  if want build || [ -z "$OURS" ]; then step_build; fi
  if want mysql-user && ! want peers; then step_mysql_user; fi
  want peers && step_peers
  want single && step_single
  want rss && step_rss
  want splitter && step_splitter
  echo
  echo "results in $OUT:"
  [ -f "$OUT/peers/report.md" ] && echo "  peers.sh report:  $OUT/peers/report.md (machine: $OUT/peers/pass-1/machine.txt)"
  [ -f "$OUT/extra/single.summary.txt" ] && echo "  single-transaction: $OUT/extra/single.summary.txt"
  [ -f "$OUT/extra/rss.summary.txt" ] && echo "  peak RSS (heavy):   $OUT/extra/rss.summary.txt"
  [ -f "$OUT/extra/splitter.txt" ] && echo "  splitter:           $OUT/extra/splitter.txt"
  return 0
}

case "${1:-}" in
  _reset) reset_db "$2" ;;   # used by hyperfine --prepare
  mysql-user) step_mysql_user ;;
  "") main ;;
  *) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
