#!/bin/sh
# Runs Directus (https://directus.io, installed from npm) as a plain background process, one
# npm install per release, for day2's `commands` runtime:
#
#   ./ctl.sh pull VERSION       install release VERSION (cached: a second call returns at once)
#   ./ctl.sh present VERSION    exit 0 when release VERSION is installed
#   ./ctl.sh migrate VERSION    `directus database migrate:latest` of release VERSION
#   ./ctl.sh bootstrap          first install: Directus's tables, migrations and the admin user
#   ./ctl.sh start | stop | status | version
#
# The running release is $DIRECTUS_VERSION from the env file (day2 writes it on upgrade and
# rollback). Releases live in $DIRECTUS_CACHE_DIR (default
# ${XDG_CACHE_HOME:-~/.cache}/day2/examples/directus), one directory per version; the pid
# file, the log and uploads live in ./run beside this script.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache=${DIRECTUS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/day2/examples/directus}
run="$here/run"
pidfile="$run/directus.pid"

# day2 runs every command with the env file's variables already in its environment, and
# may override one (DATABASE_URL, for migrations as the database owner): then they must
# win. By hand, nothing is set yet: read the env file.
if [ -z "${DIRECTUS_VERSION:-}" ] && [ -f "$here/.env" ]; then
  set -a
  . "$here/.env"
  set +a
fi

mkdir -p "$cache"

# What a Directus process needs besides the env file's own variables.
directus_env() {
  # Directus reads ./.env on its own, and values from that file win over the environment:
  # point it at a file that does not exist so the environment (day2's) is what it uses.
  export CONFIG_PATH="$run/no-directus-config-file.env"
  export DB_CLIENT="${DB_CLIENT:-pg}"
  export DB_CONNECTION_STRING="${DATABASE_URL:?DATABASE_URL is not set (the env file holds it)}"
  export STORAGE_LOCAL_ROOT="$run/uploads"
  export EXTENSIONS_PATH="$run/extensions"
  mkdir -p "$run/uploads" "$run/extensions"
}

# Directus's own `directus` bin first asks the npm registry whether a newer release exists
# (seconds, or a long wait offline); its CLI proper is @directus/api's run.js.
directus() {
  v=$1
  shift
  node "$cache/$v/node_modules/@directus/api/dist/cli/run.js" "$@"
}

valid_version() {
  case "$1" in
    '' | *[!0-9A-Za-z.+-]*) echo "ctl.sh: '$1' is not a release version" >&2; exit 2 ;;
  esac
}

pull() {
  valid_version "$1"
  [ -d "$cache/$1" ] && return 0
  # Into a scratch directory, renamed into place only once npm succeeded: an interrupted
  # install is never mistaken for a release, and two pulls at once both end well.
  tmp=$(mktemp -d "$cache/.install-$1-XXXXXX")
  printf '{ "private": true }\n' >"$tmp/package.json"
  echo "ctl.sh: installing directus@$1 into $cache/$1 (npm, a few minutes the first time)" >&2
  if ! npm install --prefix "$tmp" --no-audit --no-fund --loglevel=error "directus@$1" >"$tmp/npm.log" 2>&1; then
    tail -n 20 "$tmp/npm.log" >&2
    rm -rf "$tmp"
    echo "ctl.sh: npm install directus@$1 failed" >&2
    exit 1
  fi
  mv -T "$tmp" "$cache/$1" 2>/dev/null || rm -rf "$tmp"
}

# The pid of the file, while that process is still a Directus server (a stale pid file may
# name a pid some other process has since been given).
running_pid() {
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q 'cli/run.js start' && echo "$pid"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  pull) pull "${1:?usage: ctl.sh pull VERSION}" ;;
  present) valid_version "${1:-}"; [ -d "$cache/$1" ] ;;
  migrate)
    v=${1:?usage: ctl.sh migrate VERSION}
    pull "$v"
    directus_env
    directus "$v" database migrate:latest
    ;;
  bootstrap)
    : "${DIRECTUS_VERSION:?DIRECTUS_VERSION is not set (the env file holds it)}"
    pull "$DIRECTUS_VERSION"
    directus_env
    directus "$DIRECTUS_VERSION" bootstrap
    ;;
  start)
    if pid=$(running_pid); then
      echo "ctl.sh: directus already runs (pid $pid)"
      exit 0
    fi
    : "${DIRECTUS_VERSION:?DIRECTUS_VERSION is not set (the env file holds it)}"
    pull "$DIRECTUS_VERSION"
    directus_env
    log="$run/directus.log"
    touch "$log"
    from=$(($(wc -c <"$log") + 1))
    # setsid: its own session, so stopping day2's command does not take Directus with it.
    setsid node "$cache/$DIRECTUS_VERSION/node_modules/@directus/api/dist/cli/run.js" start >>"$log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$pidfile"
    echo "$DIRECTUS_VERSION" >"$run/directus.version"
    # Return once it listens (day2 then asks the health URL): a release that cannot start
    # fails here, at once, rather than as a readiness timeout.
    i=0
    until tail -c "+$from" "$log" | grep -q 'Server started at'; do
      if ! kill -0 "$pid" 2>/dev/null; then
        rm -f "$pidfile"
        echo "ctl.sh: directus $DIRECTUS_VERSION exited while starting; last lines of run/directus.log:" >&2
        tail -c "+$from" "$log" | tail -n 5 >&2
        exit 1
      fi
      i=$((i + 1))
      [ $i -lt 720 ] || { echo "ctl.sh: directus $DIRECTUS_VERSION not listening after 180 s (pid $pid, run/directus.log)" >&2; exit 1; }
      sleep 0.25
    done
    echo "ctl.sh: directus $DIRECTUS_VERSION started (pid $pid, log run/directus.log)"
    ;;
  stop)
    if pid=$(running_pid); then
      kill "$pid"
      i=0
      while kill -0 "$pid" 2>/dev/null; do
        i=$((i + 1))
        [ $i -ge 300 ] && kill -9 "$pid" 2>/dev/null
        sleep 0.1
      done
      echo "ctl.sh: directus stopped (pid $pid)"
    fi
    rm -f "$pidfile"
    ;;
  status)
    if pid=$(running_pid); then echo "directus $(cat "$run/directus.version") running (pid $pid)"; else echo "directus stopped"; fi
    ;;
  version) cat "$run/directus.version" ;;
  *)
    echo "usage: ctl.sh pull|present|migrate VERSION | bootstrap | start | stop | status | version" >&2
    exit 2
    ;;
esac
