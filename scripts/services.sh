#!/usr/bin/env bash
# Make sure a Redis and a PostgreSQL answer on 127.0.0.1 for the tests; start local ones if none does.
# `make run` needs only Redis (SQLite is embedded): scripts/run.sh starts its own when none answers.
set -euo pipefail

redis_port=${TEST_REDIS_PORT:-6379}
pg_port=${TEST_PG_PORT:-5432}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ensure_redis() {
  if port_open "$redis_port"; then return; fi
  echo "services: no Redis on 127.0.0.1:$redis_port, starting one (no persistence)"
  mkdir -p var/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
    --dir "$PWD/var/redis" --logfile "$PWD/var/redis/redis.log"
  for _ in $(seq 50); do port_open "$redis_port" && return; sleep 0.1; done
  echo "services: Redis did not start; see var/redis/redis.log" >&2; exit 1
}

ensure_postgres() {
  if port_open "$pg_port"; then return; fi
  echo "services: no PostgreSQL on 127.0.0.1:$pg_port, starting the local cluster"
  if ls /etc/postgresql/*/main >/dev/null 2>&1; then
    version=$(ls /etc/postgresql | sort -V | tail -n1)
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  fi
  for _ in $(seq 100); do port_open "$pg_port" && break; sleep 0.1; done
  if ! port_open "$pg_port"; then
    echo "services: could not start PostgreSQL (tests against it will fail in CI, be skipped elsewhere)" >&2
    return
  fi
  # Tests connect as postgres without a password over TCP, as on a developer machine with trust auth.
  if ! PGCONNECT_TIMEOUT=3 psql -h 127.0.0.1 -p "$pg_port" -U postgres -c 'select 1' >/dev/null 2>&1; then
    hba=$(ls /etc/postgresql/*/main/pg_hba.conf | head -n1)
    sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main reload
  fi
}

case "${1:-ensure}" in
  ensure) ensure_redis; ensure_postgres ;;
  redis) ensure_redis ;;
  *) echo "usage: $0 [ensure|redis]" >&2; exit 2 ;;
esac
