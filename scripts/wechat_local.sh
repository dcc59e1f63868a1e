#!/usr/bin/env bash
# Send a message to the local gateway exactly as WeChat does (signed, AES-encrypted), using the same
# stand-in credentials `make run` gives the gateway when no real Official Account is configured.
#   scripts/wechat_local.sh "我要开饭店"        scripts/wechat_local.sh --image photo.jpg
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f .env ]; then set -a; . ./.env; set +a; fi
if [ -z "${WECHAT_SECRET:-}" ]; then
  export WECHAT_TOKEN=local-dev-token WECHAT_APPID=wx-local-demo WECHAT_SECRET=local-secret
  export WECHAT_AES_KEY=kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR WECHAT_API_BASE=http://127.0.0.1:8010
fi
exec .venv/bin/python -m bot.wechat_client "$@"
