#!/usr/bin/env bash
# probes.sh - what the rehearsal, the DDL plan (with its calibration) and the probes of the
# live rows cost at aurweb's production size (issue 27 item 4, issue 31 item 4), side by side
# with the raw client, on MariaDB and on SQLite (which has no DDL plan), and that a no-op
# upgrade does none of it.
#
# The database: aurweb's head schema (schema/, version 18, built by `upgrade`), then filled by
# the raw client with USERS users, BASES package bases, PACKAGES packages and DEPENDS
# PackageDepends rows (10 per package by default, clustered by package as aurweb's pushes
# write them). The pending migration 0019 adds the unique key
#   PackageDepends (PackageID, DepTypeID, DepName)
# to that largest table (MySQL `ALTER TABLE … ADD UNIQUE KEY`, SQLite `CREATE UNIQUE INDEX`).
# On MariaDB its plan is not trivial: the rehearsal tries ALGORITHM=INSTANT, NOCOPY, then
# INPLACE with LOCK=NONE on the empty copy, reads the live table's size, and calibrates the
# estimate on a 5,000-row sample of PackageDepends (an INPLACE rebuild moves rows).
#
# SERIES (one hyperfine run each, side by side)
#   noop      `upgrade` with nothing pending, on the filled database: the binary of
#             OLD_COMMIT (before the rehearsal and the probes) vs this tree's `upgrade` and
#             `upgrade --dry-run`; the number of rehearsal/plan/calibration/probes lines in
#             the -vv log of each of this tree's (0 expected; split.txt); with valgrind, also
#             each binary's instruction count (callgrind: the same for the same binary and
#             input, whatever else the machine does; instructions.txt)
#   clean     no duplicates: `upgrade --dry-run` vs `--dry-run --no-probes` vs the client
#             running the probe's count query
#   apply     clean data: the real `upgrade` (rehearsal + probes + the ALTER, and its history
#             row) vs `upgrade --no-probes` vs the client running the ALTER alone; the key and
#             the history row are removed before every run (hyperfine --prepare, untimed)
#   dups      DUPS rows duplicating others' key (DepDesc = 'dup'): the dry run refuses
#             (exit 7, ignored by hyperfine -i), and the client runs the count and the sample
#             query
#   indexed   the same rows with a plain index over the key's columns (DependsKeyCols), as when
#             an existing index is made unique: the probes can read the index alone
# For clean, dups and indexed the script also runs the dry run SPLIT_RUNS times with
# RUST_LOG=aurweb_migrate=debug, and for apply the real upgrade (the key and the history row
# removed before each, untimed), and takes the medians of the timings the tool logs
# (split.txt): the rehearsal's parts (reading the live definitions, making the scratch
# database, copying the tables it needs, running the pending statements, the plan, reading
# the model, removing it); the DDL plan's (MariaDB: `plan.learn_ms` the clause tries incl.
# the accepted one, which is the statement's run on the copy, `plan.sizes_ms` the live
# tables' sizes, `plan.calibrate_ms` the calibration, `calibration.empty_s`/`with_s` its two
# timed rebuilds; all inside the rehearsal's total, whose `plan_ms` is their sum); and the
# probes'. EXPLAIN (MariaDB) / EXPLAIN QUERY PLAN (SQLite) of each probe query per series goes
# to explain-<db>-<series>.txt.
#
# The probe queries the client runs are the ones src/schema/probe.rs builds for this key
# (the tool does not log its SQL); change them here if that file changes.
#
# RUN
#   bash benches/probes.sh                       # both databases, every series
#   DBS=sqlite SERIES="clean dups" bash benches/probes.sh
#   OLD=/path/to/old/aurweb-migrate bash benches/probes.sh   # skip building OLD_COMMIT
# KNOBS: DBS ("mariadb sqlite"), SERIES ("noop clean apply dups indexed"), RUNS (5: the
#   series that read a million rows), NOOP_RUNS (20), ALTER_RUNS (3), SPLIT_RUNS (5),
#   USERS BASES PACKAGES (100000 each) DEPENDS (1000000) DUPS (1000),
#   OLD_COMMIT (35cd520, main before the probes landed; built in a git worktree under /tmp with
#   OLD_TARGET, default /tmp/target-old; left out of a no-op series whose migrations it cannot
#   read, as SQLite's today: it does not know the `empty` directive), CARGO_TARGET_DIR (the tree's target/),
#   MYSQL_ADMIN ("mariadb -h127.0.0.1 -P3306 -uroot"), MYSQL_URL (mysql://root@127.0.0.1:3306),
#   MYSQL_DB (probes_bench: dropped before and after), OUT (a fresh directory under /tmp),
#   BEFORE (another binary whose dry run joins the clean/dups/indexed series: a build before
#   a change, for a before/after in one run).
# Needs hyperfine, python3, sqlite3 (3.38+: generate_series), cargo, git; for MariaDB a running
# server with the SEQUENCE engine (seq_1_to_N) and the mariadb client. Only 127.0.0.1 is
# reached. Takes ~25 minutes on 2 cores (the MariaDB probe without an index reads 1M rows;
# DBS=sqlite ~3 minutes; RUNS=3 SPLIT_RUNS=3 ~15 minutes).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DBS=${DBS:-mariadb sqlite}
SERIES=${SERIES:-noop clean apply dups indexed}
RUNS=${RUNS:-5}
NOOP_RUNS=${NOOP_RUNS:-20}
ALTER_RUNS=${ALTER_RUNS:-3}
SPLIT_RUNS=${SPLIT_RUNS:-5}
USERS=${USERS:-100000}
BASES=${BASES:-100000}
PACKAGES=${PACKAGES:-100000}
DEPENDS=${DEPENDS:-1000000}
DUPS=${DUPS:-1000}
OLD_COMMIT=${OLD_COMMIT:-35cd520}
OLD_TARGET=${OLD_TARGET:-/tmp/target-old}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
MYSQL_ADMIN=${MYSQL_ADMIN:-mariadb -h127.0.0.1 -P3306 -uroot}
MYSQL_URL=${MYSQL_URL:-mysql://root@127.0.0.1:3306}
MYSQL_DB=${MYSQL_DB:-probes_bench}
OUT=${OUT:-$(mktemp -d /tmp/aurweb-migrate-probes.XXXXXX)}
PER=$((DEPENDS / PACKAGES))
[ "$PER" -ge 1 ] || { echo "probes.sh: DEPENDS must be at least PACKAGES" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "probes.sh: needs hyperfine" >&2; exit 2; }

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# The binaries: this tree's, and OLD_COMMIT's for the no-op series.
(cd "$ROOT" && cargo build --release --locked --quiet)
NEW=$CARGO_TARGET_DIR/release/aurweb-migrate
if [[ " $SERIES " == *" noop "* && -z "${OLD:-}" ]]; then
    src=/tmp/aurweb-migrate-old-$OLD_COMMIT
    [ -d "$src" ] || git -C "$ROOT" worktree add --detach "$src" "$OLD_COMMIT" >/dev/null
    (cd "$src" && CARGO_TARGET_DIR=$OLD_TARGET cargo build --release --locked --quiet)
    OLD=$OLD_TARGET/release/aurweb-migrate
fi

# Migrations at the head (m18) and with the pending key (m19); the schema beside them.
rm -rf "$OUT/m18" "$OUT/m19" "$OUT/schema"
cp -r "$ROOT/migrations" "$OUT/m18"
cp -r "$ROOT/migrations" "$OUT/m19"
cp -r "$ROOT/schema" "$OUT/schema"
cat >"$OUT/m19/0019_depends_unique.mysql.sql" <<'EOF'
-- Benchmark: a unique key over the largest table.

ALTER TABLE PackageDepends ADD UNIQUE KEY DependsUnique (PackageID, DepTypeID, DepName);
EOF
cat >"$OUT/m19/0019_depends_unique.sqlite.sql" <<'EOF'
-- Benchmark: a unique key over the largest table.

CREATE UNIQUE INDEX DependsUnique ON PackageDepends (PackageID, DepTypeID, DepName);
EOF
cd "$OUT" # no aurweb-migrate.toml to pick up here

{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -r)"
    echo "new: $NEW ($("$NEW" --version)), tree $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet || echo +changes)"
    [ -n "${OLD:-}" ] && echo "old: $OLD ($("$OLD" --version)), $OLD_COMMIT"
    [ -n "${BEFORE:-}" ] && echo "before: $BEFORE ($("$BEFORE" --version))"
    echo "sqlite3: $(sqlite3 --version | cut -d' ' -f1)"
    [[ " $DBS " == *" mariadb "* ]] && echo "mariadb: $($MYSQL_ADMIN -N -e 'SELECT VERSION()')"
    echo "rows: $USERS users, $BASES package bases, $PACKAGES packages, $DEPENDS PackageDepends (+$DUPS duplicates in dups/indexed)"
    echo "runs: $RUNS (dry runs), $NOOP_RUNS (no-op), $ALTER_RUNS (apply), $SPLIT_RUNS (split)"
} | tee "$OUT/machine.txt"

# The fill and the duplicates, in the dialect's SQL ($1: mariadb or sqlite). N numbers come
# from MariaDB's SEQUENCE engine or SQLite's generate_series.
numbers() { # DB N
    if [ "$1" = mariadb ]; then echo "(SELECT seq AS n FROM seq_1_to_$2) AS s"; else echo "(SELECT value AS n FROM generate_series(1, $2)) AS s"; fi
}
text() { # DB PARTS...: the parts concatenated
    local db=$1
    shift
    if [ "$db" = mariadb ]; then (IFS=,; echo "CONCAT($*)"); else (IFS='|'; s="$*"; echo "((${s//|/) || (}))"); fi
}
fill_sql() {
    local db=$1 div=/
    if [ "$db" = mariadb ]; then
        div=DIV
        echo "SET SESSION foreign_key_checks = 0, unique_checks = 0;"
    else
        echo "PRAGMA foreign_keys = OFF; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; BEGIN;"
    fi
    local dep="1 + (n - 1) $div $PER"
    echo "INSERT INTO Users (ID, Username, Email, Passwd) SELECT n, $(text "$db" "'user'" n), $(text "$db" "'user'" n "'@example.org'"), 'x' FROM $(numbers "$db" "$USERS");"
    echo "INSERT INTO PackageBases (ID, Name, FlaggerComment, SubmittedTS, ModifiedTS, SubmitterUID, MaintainerUID, PackagerUID) SELECT n, $(text "$db" "'pkg'" n), '', 1600000000 + n, 1700000000 + n, 1 + n % $USERS, 1 + n % $USERS, 1 + n % $USERS FROM $(numbers "$db" "$BASES");"
    echo "INSERT INTO Packages (ID, PackageBaseID, Name, Version, Description) SELECT n, 1 + (n - 1) % $BASES, $(text "$db" "'pkg'" n), '1.0-1', $(text "$db" "'package number '" n) FROM $(numbers "$db" "$PACKAGES");"
    # Unique per package: 7919 is prime to 50000, so n * 7919 % 50000 differs for the (fewer
    # than 50000) consecutive n of one package.
    echo "INSERT INTO PackageDepends (PackageID, DepTypeID, DepName, DepCondition) SELECT CASE WHEN $dep > $PACKAGES THEN $PACKAGES ELSE $dep END, 1 + n % 4, $(text "$db" "'dep'" "n * 7919 % 50000"), CASE WHEN n % 3 = 0 THEN '>=1.0' END FROM $(numbers "$db" "$DEPENDS");"
    if [ "$db" = sqlite ]; then echo "COMMIT;"; fi
}
dups_sql() { # the first DUPS rows again, marked
    local db=$1 div=/
    if [ "$db" = mariadb ]; then div=DIV; echo "SET SESSION foreign_key_checks = 0;"; fi
    echo "INSERT INTO PackageDepends (PackageID, DepTypeID, DepName, DepDesc, DepCondition) SELECT 1 + (n - 1) $div $PER, 1 + n % 4, $(text "$db" "'dep'" "n * 7919 % 50000"), 'dup', CASE WHEN n % 3 = 0 THEN '>=1.0' END FROM $(numbers "$db" "$DUPS");"
}

# The probe queries src/schema/probe.rs builds for the key (count, then sample; on MariaDB
# without an index over the key, the pre-check first).
probe_sql() {
    local q=$1 text=$2
    local cols="${q}PackageID${q}, ${q}DepTypeID${q}, ${q}DepName${q}"
    local groups="FROM ${q}PackageDepends${q} WHERE ${q}PackageID${q} IS NOT NULL AND ${q}DepTypeID${q} IS NOT NULL AND ${q}DepName${q} IS NOT NULL GROUP BY $cols HAVING COUNT(*) > 1"
    COUNT_SQL="SELECT CAST(COUNT(*) AS $text) FROM (SELECT 1 AS one $groups) AS duplicates"
    SAMPLE_SQL="SELECT CAST(${q}PackageID${q} AS $text), CAST(${q}DepTypeID${q} AS $text), CAST(${q}DepName${q} AS $text) $groups ORDER BY $cols LIMIT 5"
    # MySQL, where no index starts with the key's columns: the question asked first.
    ANY_SQL="SELECT CAST(COUNT(*) - COUNT(DISTINCT $cols) AS $text) FROM ${q}PackageDepends${q} WHERE ${q}PackageID${q} IS NOT NULL AND ${q}DepTypeID${q} IS NOT NULL AND ${q}DepName${q} IS NOT NULL"
}

# The medians of the timings the tool logs (-vv level) over SPLIT_RUNS runs of COMMAND
# (SPLIT_PREPARE, when set, runs untimed before each): the rehearsal's parts, the DDL plan's
# (MySQL: the clause tries, the live tables' sizes, the calibration; inside the rehearsal's
# total, where plan_ms is their sum) and the probes'.
split() { # NAME COMMAND...
    local name=$1
    shift
    local log=$OUT/split-$name.log
    : >"$log"
    for _ in $(seq "$SPLIT_RUNS"); do
        [ -z "${SPLIT_PREPARE:-}" ] || sh -c "$SPLIT_PREPARE"
        RUST_LOG=aurweb_migrate=debug "$@" 2>>"$log" >/dev/null || true
    done
    python3 - "$name" "$log" <<'PY' | tee -a "$OUT/split.txt"
import re, statistics, sys
name, log = sys.argv[1], sys.argv[2]
parts = {}
for line in open(log):
    m = re.search(r" DEBUG (rehearsal|plan|calibration|probes) ", line)
    if not m:
        continue
    kind = m.group(1)
    for k, v in re.findall(r"(\w+)=([0-9.]+)", line):
        if k.endswith("ms") or k.endswith("_s") or k in ("tables", "statements", "copied"):
            parts.setdefault(f"{kind}.{k}", []).append(float(v))
med = {k: statistics.median(v) for k, v in parts.items()}
order = ["rehearsal.tables", "rehearsal.read_live_ms", "rehearsal.create_ms", "rehearsal.copy_ms",
         "rehearsal.statements_ms", "rehearsal.plan_ms", "rehearsal.read_model_ms",
         "rehearsal.dispose_ms", "rehearsal.total_ms",
         "plan.statements", "plan.learn_ms", "plan.sizes_ms", "plan.calibrate_ms", "plan.total_ms",
         "calibration.copied", "calibration.empty_s", "calibration.with_s", "probes.ms"]
label = lambda k: "probes_ms" if k == "probes.ms" else k if k.startswith(("plan.", "calibration.")) else k.split(".", 1)[1]
print(f"{name}: " + ", ".join(f"{label(k)}={med[k]:g}" for k in order if k in med)
      + f" (medians of {len(parts.get('rehearsal.total_ms', []))} runs)")
PY
}

# The debug lines of the rehearsal, the plan, the calibration and the probes that a no-op
# logs: none expected (tests/it/probes.rs proves it on the server's side).
noop_lines() { # NAME COMMAND...
    local name=$1 n
    shift
    n=$(RUST_LOG=aurweb_migrate=debug "$@" 2>&1 >/dev/null | grep -cE " DEBUG (rehearsal|plan|calibration|probes) " || true)
    echo "$name: $n rehearsal/plan/calibration/probes lines in the -vv log" | tee -a "$OUT/split.txt"
}

bench() { # NAME [hyperfine options and -n NAME COMMAND pairs]
    local name=$1
    shift
    hyperfine --export-markdown "$OUT/$name.md" --export-json "$OUT/$name.json" "$@" | tee "$OUT/$name.txt"
}

run_db() {
    local db=$1 url client one explain q text reset_key dry
    if [ "$db" = mariadb ]; then
        url=$MYSQL_URL/$MYSQL_DB
        client="$MYSQL_ADMIN $MYSQL_DB"
        one="$client -e"
        explain=EXPLAIN q='`' text=CHAR
        $MYSQL_ADMIN -e "DROP DATABASE IF EXISTS $MYSQL_DB; CREATE DATABASE $MYSQL_DB CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
        reset_key="$client -e 'ALTER TABLE PackageDepends DROP INDEX IF EXISTS DependsUnique; DELETE FROM aurweb_migrations WHERE version = 19'"
        ALTER="ALTER TABLE PackageDepends ADD UNIQUE KEY DependsUnique (PackageID, DepTypeID, DepName)"
    else
        rm -f "$OUT/bench.sqlite3"
        url=sqlite://$OUT/bench.sqlite3
        client="sqlite3 $OUT/bench.sqlite3"
        one=$client
        explain="EXPLAIN QUERY PLAN" q='"' text=TEXT
        reset_key="$client 'DROP INDEX IF EXISTS DependsUnique; DELETE FROM aurweb_migrations WHERE version = 19'"
        ALTER="CREATE UNIQUE INDEX DependsUnique ON PackageDepends (PackageID, DepTypeID, DepName)"
    fi
    probe_sql "$q" "$text"
    local m18="$NEW -q -m $OUT/m18 --schema $OUT/schema -d $url"
    dry="$NEW -m $OUT/m19 --schema $OUT/schema -d $url upgrade --dry-run"
    $m18 upgrade
    fill_sql "$db" >"$OUT/fill.$db.sql"
    local t0=$SECONDS
    $client <"$OUT/fill.$db.sql" >/dev/null
    echo "== $db: filled in $((SECONDS - t0)) s"
    local said
    said=$($dry 2>&1 || true)
    [[ $said == *"tightens: unique key (PackageID, DepTypeID, DepName) on PackageDepends"* ]] ||
        { echo "probes.sh: the dry run did not find the key: $said" >&2; exit 1; }
    for s in $SERIES; do
        case " noop clean apply dups indexed " in
            *" $s "*) ;;
            *) echo "probes.sh: unknown series $s" >&2; exit 2 ;;
        esac
    done
    # In this order whatever SERIES says: apply needs the clean rows, dups adds duplicates,
    # indexed adds the index to them.
    for s in noop clean apply dups indexed; do
        [[ " $SERIES " == *" $s "* ]] || continue
        case $s in
            noop)
                # OLD_COMMIT does not know every directive of today's migrations (SQLite's
                # `-- aurweb-migrate: empty`): then it is left out, and said.
                local olds=() bins=new
                if [ -n "${OLD:-}" ] && $OLD -q -m "$OUT/m18" --schema "$OUT/schema" -d "$url" upgrade >/dev/null 2>&1; then
                    olds=(-n "old no-op upgrade" "$OLD -q -m $OUT/m18 --schema $OUT/schema -d $url upgrade")
                    bins="old new"
                elif [ -n "${OLD:-}" ]; then
                    echo "$db-noop: OLD cannot run these migrations: left out" | tee -a "$OUT/split.txt"
                fi
                bench "$db-noop" -N --warmup 3 --runs "$NOOP_RUNS" \
                    "${olds[@]}" \
                    -n "new no-op upgrade" "$m18 upgrade" \
                    -n "new no-op upgrade --dry-run" "$m18 upgrade --dry-run"
                noop_lines "$db-noop upgrade" $NEW -m "$OUT/m18" --schema "$OUT/schema" -d "$url" upgrade
                noop_lines "$db-noop upgrade --dry-run" $NEW -m "$OUT/m18" --schema "$OUT/schema" -d "$url" upgrade --dry-run
                if command -v valgrind >/dev/null; then # the tool's own work, noise-free
                    local b n
                    for b in $bins; do
                        n=$OLD
                        [ "$b" = new ] && n=$NEW
                        valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.out" \
                            "$n" -q -m "$OUT/m18" --schema "$OUT/schema" -d "$url" upgrade >/dev/null 2>&1
                        echo "$db no-op upgrade, $b: $(awk '/^summary:/ {print $2}' "$OUT/cg.out") instructions" |
                            tee -a "$OUT/instructions.txt"
                        rm -f "$OUT/cg.out"
                    done
                fi
                ;;
            clean | dups | indexed)
                if [ "$s" = dups ]; then
                    dups_sql "$db" | $client
                elif [ "$s" = indexed ]; then
                    $client <<<"CREATE INDEX DependsKeyCols ON PackageDepends (PackageID, DepTypeID, DepName);"
                fi
                {
                    echo "-- count: $COUNT_SQL"
                    $client <<<"$explain $COUNT_SQL"
                    echo "-- sample: $SAMPLE_SQL"
                    $client <<<"$explain $SAMPLE_SQL"
                } >"$OUT/explain-$db-$s.txt"
                local extra=()
                [ "$s" = clean ] || extra=(-n "client: sample query" "$one '$SAMPLE_SQL'")
                [ "$db" != mariadb ] || [ "$s" = indexed ] || extra+=(-n "client: pre-check query" "$one '$ANY_SQL'")
                [ -z "${BEFORE:-}" ] || extra+=(-n "before: upgrade --dry-run" "$BEFORE -m $OUT/m19 --schema $OUT/schema -d $url upgrade --dry-run")
                bench "$db-$s" -N -i --warmup 1 --runs "$RUNS" \
                    -n "upgrade --dry-run" "$dry" \
                    -n "upgrade --dry-run --no-probes" "$dry --no-probes" \
                    -n "client: count query" "$one '$COUNT_SQL'" \
                    "${extra[@]}"
                split "$db-$s" $dry
                ;;
            apply)
                bench "$db-apply" -N --runs "$ALTER_RUNS" --prepare "$reset_key" \
                    -n "upgrade" "$NEW -q -m $OUT/m19 --schema $OUT/schema -d $url upgrade" \
                    -n "upgrade --no-probes" "$NEW -q -m $OUT/m19 --schema $OUT/schema -d $url upgrade --no-probes" \
                    -n "client: the ALTER" "$one '$ALTER'"
                SPLIT_PREPARE=$reset_key split "$db-apply" $NEW -m "$OUT/m19" --schema "$OUT/schema" -d "$url" upgrade
                sh -c "$reset_key"
                ;;
        esac
    done
    if [ "$db" = mariadb ]; then
        $MYSQL_ADMIN -e "DROP DATABASE IF EXISTS $MYSQL_DB"
    else
        rm -f "$OUT/bench.sqlite3"
    fi
}

for db in $DBS; do
    case $db in
        mariadb | sqlite) run_db "$db" ;;
        *) echo "probes.sh: unknown database $db" >&2; exit 2 ;;
    esac
done
echo "== results in $OUT"
[ ! -f "$OUT/split.txt" ] || cat "$OUT/split.txt"
[ ! -f "$OUT/instructions.txt" ] || cat "$OUT/instructions.txt"
for f in "$OUT"/*.md; do echo "-- $(basename "$f")"; cat "$f"; done
