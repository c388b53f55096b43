#!/bin/sh
# Check this repository's migrations against aurweb's own models: `aurweb-migrate verify` with
# aurweb's initdb (`python -m aurweb.initdb --no-alembic`) as the schema command, on
# MySQL/MariaDB and on SQLite, with contrib/aurweb/accepted-differences.toml as the reviewed
# differences. Every difference verify reports must be listed there with its reason, and every
# entry must still match one (see docs/developers.md, "Accepted differences").
#
# Usage: contrib/aurweb/check-against-aurweb.sh AURWEB_CHECKOUT [MYSQL_URL]
#
#   AURWEB_CHECKOUT  an aurweb checkout (read only: it is copied, without .git, to a temporary
#                    directory, which gets sql/migrations, sql/schema/accepted-differences.toml
#                    and aurweb-migrate.toml from this repository)
#   MYSQL_URL        a MySQL/MariaDB server for the scratch databases, e.g.
#                    mysql://root@127.0.0.1:3306/aurweb_check (only the server is used; the
#                    user needs CREATE and DROP). Default: $AURWEB_MIGRATE_DATABASE_URL; without
#                    either, the MySQL half is skipped and the script says so (and fails).
#
# Environment:
#   PYTHON           the Python that has aurweb's dependencies (SQLAlchemy, alembic,
#                    mysqlclient), e.g. aurweb's poetry virtualenv's bin/python. Default: python3
#   AURWEB_MIGRATE   the aurweb-migrate binary. Default: target/debug/aurweb-migrate of this
#                    repository when built, else aurweb-migrate on PATH
#   KEEP=1           keep the temporary directory (its path is printed)
#
# It downloads nothing and is not part of CI (CI has no aurweb checkout). Exit status: 0 when
# both dialects pass, 1 when a verify fails, 2 on a usage or setup error.
set -eu

usage() {
	sed -n '8,9p' "$0" | sed 's/^# //' >&2
	exit 2
}

[ $# -ge 1 ] && [ $# -le 2 ] || usage
checkout=$1
url=${2:-${AURWEB_MIGRATE_DATABASE_URL:-}}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
python=${PYTHON:-python3}

if [ -n "${AURWEB_MIGRATE:-}" ]; then
	tool=$AURWEB_MIGRATE
elif [ -x "$repo/target/debug/aurweb-migrate" ]; then
	tool=$repo/target/debug/aurweb-migrate
else
	tool=aurweb-migrate
fi

[ -f "$checkout/aurweb/initdb.py" ] && [ -f "$checkout/aurweb/schema.py" ] || {
	echo "$checkout: not an aurweb checkout (no aurweb/initdb.py, aurweb/schema.py)" >&2
	exit 2
}
"$python" -c 'import sqlalchemy, alembic, MySQLdb' 2>/dev/null || {
	echo "$python: cannot import sqlalchemy, alembic and MySQLdb (aurweb's dependencies); set PYTHON" >&2
	exit 2
}
command -v "$tool" >/dev/null 2>&1 || {
	echo "no aurweb-migrate binary ($tool); build it (cargo build) or set AURWEB_MIGRATE" >&2
	exit 2
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-against-aurweb.XXXXXX")
cleanup() {
	if [ "${KEEP:-}" = 1 ]; then
		echo "kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

work=$tmp/aurweb
mkdir -p "$work"
(cd "$checkout" && tar --exclude=./.git -cf - .) | (cd "$work" && tar -xf -)
mkdir -p "$work/sql/schema"
rm -rf "$work/sql/migrations"
cp -R "$repo/migrations" "$work/sql/migrations"
cp "$repo/contrib/aurweb/accepted-differences.toml" "$work/sql/schema/"
cp "$repo/contrib/aurweb/aurweb-migrate.toml" "$work/aurweb-migrate.toml"
# Rendered schema files from an earlier run would be checked too; start without any.
rm -f "$work/sql/schema/mysql.sql" "$work/sql/schema/sqlite.sql"

# aurweb's config: the checkout's defaults, and what initdb needs beyond them (aurweb's
# logging reads [options] aurwebdir; an empty otlp_endpoint keeps tracing off). The tool
# replaces [database] with its scratch database's in the copy it gives the command.
defaults=$work/conf/config.defaults
[ -f "$defaults" ] || {
	echo "$checkout: no conf/config.defaults" >&2
	exit 2
}
cat >"$work/conf/config" <<EOF
[options]
aurwebdir = $work

[tracing]
otlp_endpoint =
EOF
# SQLite as aurweb's sharness tests use it: backend = sqlite, the database a file.
cat >"$work/conf/config.sqlite" <<EOF
[database]
backend = sqlite
name = $tmp/aur.db

[options]
aurwebdir = $work

[tracing]
otlp_endpoint =
EOF

command="$python -m aurweb.initdb --no-alembic"
status=0
run() {
	echo "== $*"
	(cd "$work" && "$@") || status=1
}

if [ -n "$url" ]; then
	# Both dialects: MariaDB/MySQL on the server, SQLite in a scratch file.
	run env AUR_CONFIG="$work/conf/config" AUR_CONFIG_DEFAULTS="$defaults" \
		"$tool" --schema-command "$command" -d "$url" verify
else
	echo "MySQL/MariaDB not checked: give a server as MYSQL_URL (or AURWEB_MIGRATE_DATABASE_URL)" >&2
	status=1
fi
# SQLite alone, with the database named by aurweb's config (backend = sqlite).
run env -u AURWEB_MIGRATE_DATABASE_URL AUR_CONFIG="$work/conf/config.sqlite" \
	AUR_CONFIG_DEFAULTS="$defaults" "$tool" --schema-command "$command" verify

if [ $status = 0 ]; then
	echo "aurweb's models and the migrations agree, but for the accepted differences (both dialects)"
fi
exit $status
