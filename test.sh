#!/usr/bin/env bash
# The test command: installs what the tests need when it is missing, starts a private mosquitto and a private MariaDB
# on free loopback ports (throwaway data in a temp directory, stopped on exit even on failure), runs every test
# project, and ends with one line "N passed, N failed" (a line before it counts the skipped ones, if any). Exits non-zero if anything failed.
# It never touches a server you already run. Usage: ./test.sh [extra dotnet test arguments]
set -euo pipefail
cd "$(dirname "$0")"
root=$(pwd)

scripts/install-deps.sh

work=$(mktemp -d "${TMPDIR:-/tmp}/ambientmqtt-test.XXXXXX")
pids=()
cleanup() {
  local rc=$?
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  local port
  while true; do
    port=$(( (RANDOM % 30000) + 20000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
}

bin() { command -v "$1" 2>/dev/null || echo "/usr/sbin/$1"; }

# --- mosquitto ---------------------------------------------------------------
mqtt_port=$(free_port)
mkdir -p "$work/mosquitto/conf.d"
# The broker settings users install (README: deploy/mosquitto/ambientmqtt.conf into /etc/mosquitto/conf.d/).
cp deploy/mosquitto/ambientmqtt.conf "$work/mosquitto/conf.d/"
cat > "$work/mosquitto/mosquitto.conf" <<CONF
listener $mqtt_port 127.0.0.1
allow_anonymous true
# Started as root, mosquitto would switch to user "mosquitto", who cannot write the private temp directory.
user $(id -un)
persistence true
persistence_location $work/mosquitto/
log_dest file $work/mosquitto/mosquitto.log
include_dir $work/mosquitto/conf.d
CONF
"$(bin mosquitto)" -c "$work/mosquitto/mosquitto.conf" &
pids+=($!)

# --- MariaDB -----------------------------------------------------------------
db_port=$(free_port)
db_password="t$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
mkdir -p "$work/mariadb"
"$(bin mariadb-install-db)" --no-defaults --datadir="$work/mariadb/data" --user=root \
  --auth-root-authentication-method=socket --skip-test-db > "$work/mariadb/install.log" 2>&1 \
  || { cat "$work/mariadb/install.log" >&2; exit 1; }
"$(bin mariadbd)" --no-defaults --datadir="$work/mariadb/data" --socket="$work/mariadb/mysqld.sock" \
  --port="$db_port" --bind-address=127.0.0.1 --user=root --pid-file="$work/mariadb/mysqld.pid" \
  --log-error="$work/mariadb/error.log" --skip-name-resolve --max-connections=1000 \
  --innodb-buffer-pool-size=256M --innodb-log-file-size=256M --tmpdir="$work/mariadb" &
pids+=($!)

for _ in $(seq 300); do
  "$(bin mariadb-admin)" --no-defaults --socket="$work/mariadb/mysqld.sock" -uroot ping >/dev/null 2>&1 && break
  sleep 0.1
done
# Anonymous accounts would shadow the test user over 127.0.0.1; the user exists for both ways of saying localhost.
"$(bin mariadb)" --no-defaults --socket="$work/mariadb/mysqld.sock" -uroot <<SQL
DELETE FROM mysql.global_priv WHERE User = '';
FLUSH PRIVILEGES;
CREATE USER 'ambient'@'localhost' IDENTIFIED BY '$db_password';
CREATE USER 'ambient'@'127.0.0.1' IDENTIFIED BY '$db_password';
GRANT ALL PRIVILEGES ON *.* TO 'ambient'@'localhost' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'ambient'@'127.0.0.1' WITH GRANT OPTION;
SQL

for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$mqtt_port") 2>/dev/null && break
  sleep 0.1
done

export AMBIENT_TEST_MQTT="127.0.0.1:$mqtt_port"
export AMBIENT_TEST_MARIADB="Server=127.0.0.1;Port=$db_port;User ID=ambient;Password=$db_password"
echo "mosquitto on 127.0.0.1:$mqtt_port, MariaDB on 127.0.0.1:$db_port (private, temporary)"

# --- build and test ----------------------------------------------------------
dotnet build AmbientMqtt.sln -c Release -nologo -v quiet
results="$work/results"
set +e
dotnet test --solution AmbientMqtt.sln -c Release --no-build \
  --results-directory "$results" --report-xunit-trx --timeout 60m "$@"
test_rc=$?
set -e

passed=0; failed=0; skipped=0
shopt -s nullglob
for trx in "$results"/*.trx; do
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters")
  e=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  skipped=$((skipped + ${t:-0} - ${e:-0}))
done
if [ "$test_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # A test host that crashed or timed out counts as a failure even if its report says nothing failed.
  failed=1
fi
if [ "$skipped" -ne 0 ]; then echo "$skipped skipped (each with its reason above)"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
