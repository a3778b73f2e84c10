#!/usr/bin/env bash
# A local Apache Flink 2.3 session cluster for Flowbook's "Run on Flink" and its tests.
#
#   scripts/flink.sh start    install Flink once (if needed), start a job manager and one task
#                             manager with 2 slots on 127.0.0.1; the web UI is http://127.0.0.1:8081
#   scripts/flink.sh stop     stop both
#   scripts/flink.sh status   say whether it runs, its task managers, slots and jobs
#   scripts/flink.sh install  only install (Flink from PyPI, Java from Debian if missing)
#   scripts/flink.sh home     print the Flink distribution's folder (bin/, lib/, conf/)
#
# Flink comes from PyPI's apache-flink==2.3.0, which ships the whole distribution (bin/, lib/,
# conf/) inside the package. Only the distribution is used, so the package is installed without
# its Python dependencies (Beam, pandas, ...) into a venv in $FLOWBOOK_FLINK_DIR (default: .flink/
# in the repository; not committed). Java (a JDK: Flowbook compiles jobs with javac) comes from
# Debian's default-jdk-headless, installed only when java or javac is missing.
# Environment: FLOWBOOK_FLINK_DIR (install folder), FLOWBOOK_FLINK_PORT (REST/web port, 8081).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${FLOWBOOK_FLINK_DIR:-$repo/.flink}
port=${FLOWBOOK_FLINK_PORT:-8081}
version=2.3.0
venv=$dir/venv
conf=$dir/conf
url=http://127.0.0.1:$port

say() { echo "flink.sh: $*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  say "installing Debian packages: $*"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@"
}

ensure_java() {
  if ! command -v java >/dev/null 2>&1 || ! command -v javac >/dev/null 2>&1; then
    apt_install default-jdk-headless
  fi
  local major
  major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
  if [ -z "$major" ] || [ "$major" -lt 11 ]; then
    say "Flink 2.3 needs Java 11 or newer (17 recommended); found: $(java -version 2>&1 | head -1)" >&2
    exit 1
  fi
}

flink_home() {
  local found
  found=$(ls -d "$venv"/lib/python3*/site-packages/pyflink 2>/dev/null | head -1 || true)
  [ -n "$found" ] && [ -f "$found/lib/flink-dist-$version.jar" ] && echo "$found"
}

install() {
  ensure_java
  if [ -n "$(flink_home)" ]; then
    return
  fi
  command -v python3 >/dev/null 2>&1 || apt_install python3
  if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
    apt_install python3-venv
  fi
  local started=$SECONDS
  say "installing Apache Flink $version from PyPI into $venv (about 330 MB, once)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
    "apache-flink==$version" "apache-flink-libraries==$version"
  local home
  home=$(flink_home) || { say "the package has no Flink distribution under $venv" >&2; exit 1; }
  chmod +x "$home"/bin/*.sh "$home/bin/flink"
  say "installed in $((SECONDS - started)) s: $home"
}

# A configuration of our own (the package's conf/ stays untouched): everything on 127.0.0.1,
# one task manager with 2 slots, modest memory, metrics and heartbeats every second so a
# watched job's counters move at the pace Flowbook polls them.
write_conf() {
  local home=$1
  mkdir -p "$conf" "$dir/log" "$dir/run" "$dir/tmp"
  cp "$home"/conf/log4j*.properties "$conf"/
  # Java 17 needs the distribution's --add-opens/--add-exports flags (env.java.opts.all).
  local java_opts
  java_opts=$(sed -n 's/^ *all: *//p' "$home/conf/config.yaml" | head -1)
  cat >"$conf/config.yaml" <<YAML
# Written by scripts/flink.sh; edit the script, not this file.
env.java.opts.all: $java_opts
jobmanager.rpc.address: 127.0.0.1
jobmanager.bind-host: 127.0.0.1
jobmanager.memory.process.size: 1024m
taskmanager.host: 127.0.0.1
taskmanager.bind-host: 127.0.0.1
taskmanager.memory.process.size: 1280m
taskmanager.numberOfTaskSlots: 2
parallelism.default: 1
rest.address: 127.0.0.1
rest.bind-address: 127.0.0.1
rest.port: $port
web.submit.enable: true
web.cancel.enable: true
web.upload.dir: $dir/tmp
io.tmp.dirs: $dir/tmp
metrics.fetcher.update-interval: 1000
heartbeat.interval: 1000
heartbeat.timeout: 30000
YAML
}

export_env() {
  export FLINK_CONF_DIR=$conf FLINK_LOG_DIR=$dir/log FLINK_PID_DIR=$dir/run
}

# Prints the cluster's overview (JSON) when its REST API answers.
overview() {
  python3 - "$url" <<'PY' 2>/dev/null
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1] + "/overview", timeout=2) as r:
    print(json.dumps(json.load(r)))
PY
}

field() { python3 -c "import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], '?'))" "$1" "$2"; }

start() {
  install
  if ov=$(overview); then
    say "already running at $url ($(field "$ov" taskmanagers) task manager(s), $(field "$ov" slots-total) slots)"
    return
  fi
  local home started=$SECONDS
  home=$(flink_home)
  write_conf "$home"
  export_env
  "$home/bin/jobmanager.sh" start >/dev/null
  "$home/bin/taskmanager.sh" start >/dev/null
  for _ in $(seq 1 120); do
    if ov=$(overview) && [ "$(field "$ov" slots-total)" -ge 2 ] 2>/dev/null; then
      say "started in $((SECONDS - started)) s: $url (1 task manager, 2 slots; logs in $dir/log)"
      return
    fi
    sleep 0.5
  done
  say "the cluster did not come up within 60 s; the logs are in $dir/log" >&2
  tail -n 20 "$dir"/log/*.log >&2 || true
  exit 1
}

stop() {
  local home
  home=$(flink_home || true)
  if [ -z "$home" ]; then
    say "not installed; nothing to stop"
    return
  fi
  export_env
  "$home/bin/taskmanager.sh" stop-all >/dev/null 2>&1 || true
  "$home/bin/jobmanager.sh" stop-all >/dev/null 2>&1 || true
  say "stopped"
}

status() {
  if ov=$(overview); then
    say "running at $url: $(field "$ov" taskmanagers) task manager(s), $(field "$ov" slots-total) slots ($(field "$ov" slots-available) free), jobs running $(field "$ov" jobs-running), finished $(field "$ov" jobs-finished), cancelled $(field "$ov" jobs-cancelled), failed $(field "$ov" jobs-failed)"
  else
    say "not running at $url"
    return 3
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  install) install; say "Flink home: $(flink_home)" ;;
  home) install >&2; flink_home ;;
  *) echo "usage: scripts/flink.sh start|stop|status|install|home" >&2; exit 2 ;;
esac
