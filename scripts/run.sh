#!/usr/bin/env bash
# `make run`: every process of the product on embedded defaults. Ctrl-C stops everything started here.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .env ] && set -a && . ./.env && set +a

redis_url=${REDIS_URL:-redis://127.0.0.1:6379/0}
hostport=${redis_url#redis://}; hostport=${hostport%%/*}; hostport=${hostport##*@}
redis_host=${hostport%%:*}; redis_port=${hostport##*:}
[ "$redis_port" = "$hostport" ] && redis_port=6379

started_redis=""
if ! (exec 3<>"/dev/tcp/$redis_host/$redis_port") 2>/dev/null; then
  echo "run: nothing answers at $redis_url; starting a local redis-server on port $redis_port"
  mkdir -p var/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
    --dir "$PWD/var/redis" --logfile "$PWD/var/redis/redis.log" --pidfile "$PWD/var/redis/redis.pid"
  started_redis=1
fi
cleanup() {
  if [ -n "$started_redis" ] && [ -f var/redis/redis.pid ]; then kill "$(cat var/redis/redis.pid)" 2>/dev/null || true; fi
}
trap cleanup EXIT

mkdir -p var
exec_honcho() { .venv/bin/honcho -f Procfile start "$@"; }
exec_honcho
