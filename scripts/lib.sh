# Shared by ./run and ./test: make sure the project's tools and packages are installed.
# Nothing global is needed: uv lives in .tools/, the project's packages in .venv/.

export UV_PYTHON_DOWNLOADS=never   # the interpreter comes from the machine (.python-version)
export UV_NO_PROGRESS=1

say() { printf '\033[1m%s\033[0m\n' "$*"; }

ensure_env() {
  if [ ! -x .tools/bin/uv ]; then
    say "kapcare: installing uv into .tools/ (first run only)"
    python3 -m venv .tools
    .tools/bin/pip install --quiet --disable-pip-version-check 'uv>=0.13,<0.14'
  fi
  .tools/bin/uv sync --quiet "$@"
}

find_pg_bin() {
  local candidate
  for candidate in /usr/lib/postgresql/*/bin; do
    if [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ]; then
      echo "$candidate"
      return 0
    fi
  done
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
    return 0
  fi
  return 1
}

# Start a throwaway PostgreSQL server on a unix socket in a fresh directory; sets DATABASE_URL.
# initdb refuses to run as root, so as root the server runs as the postgres user.
pg_start() {
  local bin=$1 as=()
  PG_TMP=$(mktemp -d /tmp/kapcare-pg.XXXXXX)
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$PG_TMP"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$bin/initdb" -D "$PG_TMP/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
    --no-sync >"$PG_TMP/initdb.log" 2>&1 || { cat "$PG_TMP/initdb.log"; return 1; }
  "${as[@]}" "$bin/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w \
    -o "-c listen_addresses= -k $PG_TMP -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null || { cat "$PG_TMP/server.log"; return 1; }
  PG_BIN=$bin
  PG_AS=("${as[@]}")
  export DATABASE_URL="postgres://postgres@${PG_TMP//\//%2F}/postgres"
}

pg_stop() {
  if [ -n "${PG_TMP:-}" ] && [ -d "$PG_TMP/data" ]; then
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_TMP"
  fi
  unset DATABASE_URL
  PG_TMP=
}

find_chromium() {
  local candidate
  for candidate in "${KAPCARE_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}
