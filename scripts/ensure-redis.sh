#!/usr/bin/env bash
# Makes sure a Redis server answers on 127.0.0.1:6379 for the tests (the job queue's
# broker in production, so the tests run against it too). A machine that already runs
# one is left as it is; otherwise Debian's redis-server is installed when missing and
# started, and the script waits for it to answer.
set -euo pipefail

ping() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if command -v redis-cli >/dev/null && ping; then
  exit 0
fi
if ! command -v redis-server >/dev/null; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "Installing Debian packages: redis-server"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server
fi
if ! ping; then
  # Debian's service when there is an init system; else a daemon of our own, local only.
  service redis-server start >/dev/null 2>&1 \
    || redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save "" --appendonly no >/dev/null
fi
for _ in $(seq 1 30); do
  ping && exit 0
  sleep 1
done
echo "Redis did not start on 127.0.0.1:6379" >&2
exit 1
