#!/usr/bin/env bash
# Install the system packages the test suite and the benchmarks need, once, and start what must run:
#   - Debian's chromium: the browser tests (demo gallery, connections UI). Playwright drives this system
#     browser: no browser is ever downloaded at test time.
#   - PostgreSQL (server, client tools, libpq): the metadata database of the deployment suite
#     (tests/deployment), which needs it reachable on 127.0.0.1:5432 as user postgres with trust auth.
#   - Redis (127.0.0.1:6379) and RabbitMQ (127.0.0.1:5672, guest/guest): the brokers of the deployment
#     suite's Celery deployment; checked and started when installed, never installed here.
# Idempotent and non-interactive; apt-get runs (update included) only when something is missing.
# Run as root (or with sudo available) on Debian/Ubuntu.
set -euo pipefail

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
PG_HOST="${SEEDANCE_DEPLOY_PG_HOST:-127.0.0.1}"
PG_PORT="${SEEDANCE_DEPLOY_PG_PORT:-5432}"
PG_USER="${SEEDANCE_DEPLOY_PG_USER:-postgres}"

say() { echo "ensure-system-deps: $*" >&2; }

SUDO=""
need_root() {
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            SUDO="sudo -n"
        else
            say "$1; run this script as root"
            exit 1
        fi
    fi
}

# -- packages -------------------------------------------------------------------------------------
missing=()
[ -x "$CHROMIUM" ] || missing+=(chromium)
command -v curl >/dev/null 2>&1 || missing+=(curl)  # the baseline of the save benchmark (make bench)
installed_postgres=0
if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    if ! { command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; }; then
        missing+=(postgresql postgresql-client libpq5)
        installed_postgres=1
    fi
fi

if [ "${#missing[@]}" -gt 0 ]; then
    if ! command -v apt-get >/dev/null 2>&1; then
        say "missing: ${missing[*]} and apt-get is not available; install them with your package manager"
        say "(or set CHROMIUM=/path/to/chromium, SEEDANCE_DEPLOY_PG_HOST/_PG_PORT for another PostgreSQL)"
        exit 1
    fi
    need_root "missing: ${missing[*]}"
    say "installing ${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq </dev/null
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
fi

if [ ! -x "$CHROMIUM" ]; then
    say "chromium was installed but $CHROMIUM does not exist"
    exit 1
fi

# -- PostgreSQL running, trust auth on a fresh install ----------------------------------------------
pg_ready() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" 2>/dev/null; }

if [ "$installed_postgres" -eq 1 ]; then
    # A fresh test server: local TCP connections without a password (never do this on a shared server).
    for hba in /etc/postgresql/*/main/pg_hba.conf; do
        $SUDO sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+\s*$/\1trust/' "$hba"
    done
fi

if [ "$PG_HOST" = "127.0.0.1" ] || [ "$PG_HOST" = "localhost" ]; then
    if ! pg_ready && command -v pg_ctlcluster >/dev/null 2>&1; then
        need_root "PostgreSQL is not running"
        for version in $(ls /etc/postgresql 2>/dev/null); do
            say "starting PostgreSQL $version"
            $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
        done
        for _ in $(seq 1 30); do
            pg_ready && break
            sleep 1
        done
    elif [ "$installed_postgres" -eq 1 ]; then
        for version in $(ls /etc/postgresql 2>/dev/null); do
            $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main reload || true
        done
    fi
fi

if ! pg_ready; then
    say "PostgreSQL does not answer on $PG_HOST:$PG_PORT; start it with:"
    say "  pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start"
    exit 1
fi
if command -v psql >/dev/null 2>&1 && ! psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -w -Atqc 'select 1' >/dev/null 2>&1; then
    say "PostgreSQL on $PG_HOST:$PG_PORT refuses user $PG_USER without a password; the deployment suite needs"
    say "trust auth for it (pg_hba.conf: 'host all all 127.0.0.1/32 trust', then reload)"
    exit 1
fi

# -- Redis and RabbitMQ: the brokers of the deployment suite's Celery deployment ----------------------
# Machines of this project's kind start both before every session and CI run; start them here only when
# they are installed and not answering, and say how otherwise (the suite fails with the same words).
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! port_open 6379; then
    if command -v redis-server >/dev/null 2>&1; then
        say "starting Redis"
        mkdir -p /var/lib/redis /var/log/redis
        redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
            --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
        for _ in $(seq 1 20); do port_open 6379 && break; sleep 0.5; done
    fi
    if ! port_open 6379; then
        say "Redis does not answer on 127.0.0.1:6379 (the Celery deployment's broker); install and start it:"
        say "  apt-get install -y redis-server && redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ''"
        exit 1
    fi
fi
if ! port_open 5672; then
    if command -v rabbitmq-server >/dev/null 2>&1; then
        say "starting RabbitMQ"
        rabbitmq-server -detached || true
        for _ in $(seq 1 60); do port_open 5672 && break; sleep 1; done
    fi
    if ! port_open 5672; then
        say "RabbitMQ does not answer on 127.0.0.1:5672 (the Celery deployment's RabbitMQ scenario); install and"
        say "start it: apt-get install -y rabbitmq-server && rabbitmq-server -detached   (user guest/guest)"
        exit 1
    fi
fi
