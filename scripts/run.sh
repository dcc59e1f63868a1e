#!/usr/bin/env bash
# `make run`: every process of the product on embedded defaults (SQLite, a local Redis started here when
# none answers, the trained Rasa model, a local WeChat API stand-in unless real credentials are set).
# Ctrl-C stops everything started here.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f .env ]; then set -a; . ./.env; set +a; fi

export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
hostport=${REDIS_URL#redis://}; hostport=${hostport##*@}; db=${hostport#*/}; hostport=${hostport%%/*}
redis_host=${hostport%%:*}; redis_port=${hostport##*:}
[ "$redis_port" = "$hostport" ] && redis_port=6379
[ "$db" = "${REDIS_URL#redis://}" ] && db=0

started_redis=""
if ! (exec 3<>"/dev/tcp/$redis_host/$redis_port") 2>/dev/null; then
  echo "run: nothing answers at $REDIS_URL; starting a local redis-server on port $redis_port"
  mkdir -p var/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
    --dir "$PWD/var/redis" --logfile "$PWD/var/redis/redis.log" --pidfile "$PWD/var/redis/redis.pid"
  started_redis=1
fi
cleanup() {
  if [ -n "$started_redis" ] && [ -f var/redis/redis.pid ]; then kill "$(cat var/redis/redis.pid)" 2>/dev/null || true; fi
}
trap cleanup EXIT

# One shared secret between our own services; a local default keeps `make run` zero-config.
export SERVICE_KEY=${SERVICE_KEY:-dev-service-key}
export BACKEND_URL=${BACKEND_URL:-http://127.0.0.1:${BACKEND_PORT:-8080}}
export BACKEND_PUBLIC_URL=${BACKEND_PUBLIC_URL:-$BACKEND_URL}
export PUBLIC_BASE_URL=${PUBLIC_BASE_URL:-$BACKEND_URL}
export RASA_URL=${RASA_URL:-http://127.0.0.1:${RASA_PORT:-5005}}
export ACTION_ENDPOINT_URL=${ACTION_ENDPOINT_URL:-http://127.0.0.1:${ACTION_PORT:-5055}/webhook}
export REDIS_HOST=${REDIS_HOST:-$redis_host} REDIS_PORT=${REDIS_PORT:-$redis_port} REDIS_DB=${REDIS_DB:-$db}
export SESSION_SECRET=${SESSION_SECRET:-dev-session-secret-change-me}
if [ -z "${ADMIN_PASSWORD:-}" ]; then
  export ADMIN_PASSWORD=admin-dev-password
  echo "run: staff console admin is 'admin' / 'admin-dev-password' (set ADMIN_PASSWORD to choose one)"
fi

mkdir -p var
procfile=var/Procfile.run
{
  echo "backend: .venv/bin/python -m backend"
  echo "gateway: .venv/bin/python -m bot"
  echo "notifier: .venv/bin/python -m bot notifier"
  if [ -z "${WECHAT_SECRET:-}" ]; then
    # No real Official Account configured: talk to the local stand-in of the WeChat API instead.
    export WECHAT_TOKEN=local-dev-token WECHAT_APPID=wx-local-demo WECHAT_SECRET=local-secret
    export WECHAT_AES_KEY=kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR WECHAT_API_BASE=http://127.0.0.1:8010
    echo "wechat: .venv/bin/python -m bot wechat-standin --port 8010"
  fi
  if [ -x .venv-rasa/bin/rasa ] && [ -f models/current.tar.gz ]; then
    echo "rasa: scripts/rasa_env.sh run"
    echo "actions: scripts/rasa_env.sh actions"
  else
    echo "run: no trained Rasa model (run 'make install'); using the scripted Rasa stand-in" >&2
    echo "rasa: .venv/bin/python -m bot rasa-standin --port ${RASA_PORT:-5005}"
  fi
} > "$procfile"

cat <<EOF
run: starting
  chat page            http://127.0.0.1:${GATEWAY_PORT:-8000}/
  WeChat callback      http://127.0.0.1:${GATEWAY_PORT:-8000}/wechat   (try: scripts/wechat_local.sh "我要开饭店")
  backend API          $BACKEND_URL/api/v1/openapi.json
  staff console        $BACKEND_URL/console/
EOF
.venv/bin/honcho -f "$procfile" start
