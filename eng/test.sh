#!/usr/bin/env bash
# Runs every test in the solution on a fresh machine: installs what the tests need when it is
# missing, runs `dotnet test`, and ends with one line: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."

log() { printf '[test.sh] %s\n' "$*" >&2; }

apt_updated=0
apt_install() {
  # Installs Debian packages by name; needs root (CI runs as root) or passwordless sudo.
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if [ "$apt_updated" -eq 0 ]; then
    $sudo apt-get update -qq >/dev/null || { log "apt-get update failed"; return 1; }
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

# require COMMAND DEBIAN-PACKAGE: install the package when the command is missing.
require() {
  local command=$1 package=$2
  if command -v "$command" >/dev/null 2>&1; then return 0; fi
  log "$command not found: installing Debian package $package"
  apt_install "$package" || { log "could not install $package; install it with: apt-get install -y $package"; return 1; }
}

if ! command -v dotnet >/dev/null 2>&1; then
  log "the .NET 10 SDK (dotnet) is required and not on PATH; see https://dot.net"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

# Servers the test fixtures start on loopback (tests/BuildingBlocks.Testing). A missing server is a test failure that
# names the install command, so install what is missing here.

# Redis (Debian 12: version 7.0), on PATH as /usr/bin/redis-server; tests/BuildingBlocks.Testing/Redis/RedisServer.cs
# also looks in /usr/bin, /usr/local/bin and /usr/sbin.
require redis-server redis-server

# PostgreSQL (Debian 12: version 15). Debian keeps initdb and pg_ctl off PATH, in /usr/lib/postgresql/<major>/bin,
# which is where tests/BuildingBlocks.Testing/PostgreSql/PostgreSqlServer.cs looks after PATH.
if ! command -v initdb >/dev/null 2>&1 && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  log "initdb not found on PATH nor in /usr/lib/postgresql/*/bin: installing Debian package postgresql"
  apt_install postgresql || log "could not install postgresql; install it with: apt-get install -y postgresql"
fi

results=$(mktemp -d)
output="$results/dotnet-test.log"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet test --solution BuildingBlocks.sln "$@" 2>&1 | tee "$output"
status=${PIPESTATUS[0]}

# Microsoft.Testing.Platform prints one summary per run: "total: N / failed: N / succeeded: N / skipped: N".
sum_field() { grep -E "^\s*$1:\s*[0-9]+\s*$" "$output" | awk -F: '{ s += $2 } END { print s + 0 }'; }
passed=$(sum_field succeeded)
failed=$(sum_field failed)
skipped=$(sum_field skipped)
total=$(sum_field total)

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # The build or a test host failed before reporting: count it as a failure so it cannot pass silently.
  failed=1
fi
if [ "$status" -eq 0 ] && [ "$total" -eq 0 ]; then
  log "dotnet test ran no test"
  status=1
fi

rm -rf "$results"
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
