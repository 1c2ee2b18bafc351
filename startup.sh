#!/bin/sh
# Startup command of the bot on Azure App Service (Linux, Python 3.11): `sh startup.sh`
# (App Service > Configuration > General settings > Startup Command). docs/deployment.md explains it.
# App Service keeps only /home across restarts, scale events and deployments, so the data lives there.
set -e
export HOST="${HOST:-0.0.0.0}"
export PORT="${PORT:-8000}"
export DATA_DIR="${DATA_DIR:-/home/data/partner-benefits}"
export SEED_DEMO="${SEED_DEMO:-false}"
if [ -n "${RESTORE_FROM:-}" ]; then
  # restore a backup before the bot opens the data folder, replacing what it holds (the log lists
  # documents per table before -> after); a file that does not validate stops here
  python -m bot import --replace "$RESTORE_FROM"
fi
exec python -m bot serve
