#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 for the tests and benchmarks.
# A machine that already runs one is left as it is; otherwise Debian's cluster is started
# and, on this development machine only, local TCP connections are trusted.
set -euo pipefail

if pg_isready -q -h 127.0.0.1 -p 5432; then
  exit 0
fi
version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
if [ -z "$version" ]; then
  echo "PostgreSQL is not installed (run scripts/system-deps.sh)" >&2
  exit 1
fi
hba="/etc/postgresql/$version/main/pg_hba.conf"
if ! grep -q "spilno-dev-trust" "$hba"; then
  sed -i '1i host all all 127.0.0.1/32 trust # spilno-dev-trust\nhost all all ::1/128 trust # spilno-dev-trust' "$hba"
fi
pg_ctlcluster --skip-systemctl-redirect "$version" main start || pg_ctlcluster "$version" main start
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p 5432 && exit 0
  sleep 1
done
echo "PostgreSQL did not start on 127.0.0.1:5432" >&2
exit 1
