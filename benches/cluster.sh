#!/usr/bin/env bash
# cluster.sh - aurweb-migrate on a 3-node Galera cluster on loopback against one server, side
# by side in one run:
#   noop      `upgrade` with nothing pending (median of RUNS runs)
#   ddl       N migrations of one CREATE TABLE each, on an empty database (DDL: TOI on a cluster)
#   dml       N migrations of one INSERT each, after one table (one transaction each: certified)
#   takeover  a lock holder killed with SIGKILL mid-migration: the time from the kill until a
#             runner waiting on another node has taken the lease over and finished (its own
#             migration is instant), against the lease (LEASE seconds)
# The cluster is started here (three mariadbd with the galera-4 provider, each with its own
# client, group communication, IST and SST port on 127.0.0.1; rsync SST) and stopped on exit.
#
# NEEDS mariadbd, mariadb-install-db, the mariadb client, galera-4 (libgalera_smm.so), rsync;
# the single server on 127.0.0.1:3306 (root, no password); a release build.
# RUN  bash benches/cluster.sh        (RUNS=15, N=100, LEASE=5, BIN=path/to/aurweb-migrate)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-${CARGO_TARGET_DIR:-$REPO/target}/release/aurweb-migrate}
RUNS=${RUNS:-15}
N=${N:-100}
LEASE=${LEASE:-5}
PROVIDER=${PROVIDER:-/usr/lib/galera/libgalera_smm.so}
OUT=$(mktemp -d /tmp/aurweb-migrate-cluster.XXXXXX)
chmod -R a+rwX "$OUT" # the joiners' rsync daemon writes as nobody
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$OUT"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
CLIENT=() GCOMM=() IST=() SST=()
for i in 0 1 2; do CLIENT+=("$(free_port)") GCOMM+=("$(free_port)") IST+=("$(free_port)") SST+=("$(free_port)"); done
ADDRESS="gcomm://127.0.0.1:${GCOMM[0]},127.0.0.1:${GCOMM[1]},127.0.0.1:${GCOMM[2]}"
q() { mariadb -uroot -h127.0.0.1 -P"$1" -N -e "$2"; }
state() { q "$1" "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'WSREP_LOCAL_STATE_COMMENT'" 2>/dev/null || true; }

for i in 0 1 2; do
    d="$OUT/node$i"
    mkdir -p "$d"
    mariadb-install-db --no-defaults --datadir="$d/data" --auth-root-authentication-method=normal \
        --skip-test-db --skip-name-resolve --user=root --innodb-log-file-size=16M >/dev/null 2>&1
    chmod -R a+rwX "$d"
    extra=()
    [ "$i" = 0 ] && extra=(--wsrep-new-cluster)
    mariadbd --no-defaults --datadir="$d/data" --socket="$d/s.sock" --pid-file="$d/p.pid" \
        --port="${CLIENT[$i]}" --bind-address=127.0.0.1 --skip-name-resolve --user=root \
        --innodb-log-file-size=16M --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 \
        --wsrep-on=ON --wsrep-provider="$PROVIDER" --wsrep-cluster-name=bench \
        --wsrep-cluster-address="$ADDRESS" --wsrep-node-address=127.0.0.1 --wsrep-node-name="node$i" \
        "--wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:${GCOMM[$i]};ist.recv_addr=127.0.0.1:${IST[$i]};gcache.size=32M" \
        --wsrep-sst-method=rsync --wsrep-sst-receive-address="127.0.0.1:${SST[$i]}" \
        --binlog-format=ROW --innodb-autoinc-lock-mode=2 "${extra[@]}" >"$d/log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 600); do [ "$(state "${CLIENT[$i]}")" = Synced ] && break; sleep 0.1; done
    [ "$(state "${CLIENT[$i]}")" = Synced ] || { echo "node$i did not join; its log: $d/log" >&2; tail -20 "$d/log" >&2; exit 1; }
done
echo "cluster up on client ports ${CLIENT[*]}; $("$BIN" --version); N=$N RUNS=$RUNS LEASE=${LEASE}s"
SINGLE=3306
NODE=${CLIENT[0]}

ms() { local s; s=$(date +%s%N); "$@" >/dev/null 2>&1; echo $((($(date +%s%N) - s) / 1000000)); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
fresh() { q "$1" "DROP DATABASE IF EXISTS bench; CREATE DATABASE bench"; }
run() { "$BIN" -q -m "$2" --database-url "mysql://root@127.0.0.1:$1/bench" upgrade; }

mkdir -p "$OUT/one" "$OUT/ddl" "$OUT/dml"
echo "CREATE TABLE t0 (id INT PRIMARY KEY);" >"$OUT/one/0001_t0.sql"
for i in $(seq "$N"); do
    printf 'CREATE TABLE t%d (id INT PRIMARY KEY);\n' "$i" >"$OUT/ddl/$(printf %04d "$i")_t$i.sql"
done
echo "CREATE TABLE t (id INT PRIMARY KEY);" >"$OUT/dml/0001_t.sql"
for i in $(seq 2 "$((N + 1))"); do
    printf 'INSERT INTO t VALUES (%d);\n' "$i" >"$OUT/dml/$(printf %04d "$i")_row$i.sql"
done

printf '%-10s %12s %12s %8s\n' series "single (ms)" "cluster (ms)" ratio
for series in noop ddl dml; do
    for where in single cluster; do
        port=$SINGLE
        [ "$where" = cluster ] && port=$NODE
        case $series in
            noop)
                fresh "$port"; run "$port" "$OUT/one"
                v=$(for _ in $(seq "$RUNS"); do ms run "$port" "$OUT/one"; done | median) ;;
            *)
                v=$(for _ in $(seq 3); do fresh "$port"; ms run "$port" "$OUT/$series"; done | median) ;;
        esac
        eval "${where}_ms=$v"
    done
    printf '%-10s %12s %12s %8s\n' "$series" "$single_ms" "$cluster_ms" \
        "$(awk -v a="$single_ms" -v b="$cluster_ms" 'BEGIN {printf "%.2f", b / (a ? a : 1)}')"
done

# Takeover: the holder on node0 sleeps in its first migration; a waiter on node1 (whose own
# first migration is instant) takes over once the holder has been silent for the lease.
fresh "$NODE"
mkdir -p "$OUT/slow" "$OUT/quick"
echo "SELECT SLEEP(120);" >"$OUT/slow/0001_slow.sql"
echo "SELECT 1;" >"$OUT/quick/0001_slow.sql"
AURWEB_MIGRATE_LOCK_LEASE=$LEASE "$BIN" -q -m "$OUT/slow" --database-url "mysql://root@127.0.0.1:$NODE/bench" upgrade &
holder=$!
for _ in $(seq 300); do
    [ "$(q "$NODE" "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(120)%'")" = 1 ] && break
    sleep 0.1
done
AURWEB_MIGRATE_LOCK_LEASE=$LEASE "$BIN" -q -m "$OUT/quick" --lock-timeout 60 \
    --database-url "mysql://root@127.0.0.1:${CLIENT[1]}/bench" upgrade &
waiter=$!
sleep 1
start=$(date +%s%N)
kill -KILL "$holder"
wait "$waiter"
took=$((($(date +%s%N) - start) / 1000000))
echo "takeover: $took ms after the kill (lease ${LEASE}s, target <= $((LEASE + 2))000 ms)"
