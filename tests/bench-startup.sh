#!/usr/bin/env bash
# Start-up benchmark of the desktop app, measured as a user meets it: a fresh profile (its own
# HOME and XDG folders), a private X server (Xvfb, 1280x800) and a D-Bus session with an unlocked
# gnome-keyring that exist BEFORE the app is launched, as on a desktop.
#
#   tests/bench-startup.sh [--runs N] [BINARY]     (default BINARY: target/release/dhs-app)
#
# For each run it launches the binary and polls the X server (a screenshot every ~0.1 s):
#   window_s   the app's top-level window exists (xwininfo)
#   drawn_s    the UI is drawn: the sidebar's brand colour (#1f4e79) is on screen
#   sandbox_s  the Sandbox banner (#3b2e7e) is on screen: the app's facts have arrived
#   filled_s   the status line's "Simulator reachable" dot (#1e7b4f) is on screen: the screen is
#              filled with the connection status (simulator up, keychain probed)
# then, 10 s after launch (at least 3 s after filled), the idle memory as PSS (proportional set size, shared pages split
# between their users) of the app and every process it started (WebKit's web and network
# processes), from /proc/<pid>/smaps_rollup.
# It prints one JSON line per run and a summary line with medians; the binary's size as built
# and stripped comes first. MB are 10^6 bytes. Needs Xvfb, xwininfo, ImageMagick's import, dbus-run-session and
# gnome-keyring-daemon (./x installs them).
set -euo pipefail

RUNS=5
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    -h|--help) sed -n 2,20p "$0"; exit 0 ;;
    *) break ;;
  esac
done
BIN="${1:-${CARGO_TARGET_DIR:-target}/release/dhs-app}"
if [ ! -x "$BIN" ]; then
  echo "bench-startup: $BIN is not an executable; build it first (./x package) or pass its path." >&2
  exit 2
fi
for tool in Xvfb xwininfo import dbus-run-session gnome-keyring-daemon; do
  command -v "$tool" >/dev/null || { echo "bench-startup: $tool is missing (run ./x test or ./x package once to install it)." >&2; exit 2; }
done

now_ns() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }

# Size as built and stripped (strip on a copy; the binary itself is left alone).
size_built=$(stat -c %s "$BIN")
stripped="$(mktemp)"
strip --strip-all -o "$stripped" "$BIN"
size_stripped=$(stat -c %s "$stripped")
rm -f "$stripped"
printf '{"binary":"%s","size_bytes":%s,"size_mb":%s,"stripped_bytes":%s,"stripped_mb":%s}\n' \
  "$BIN" "$size_built" "$(awk -v s="$size_built" 'BEGIN { printf "%.1f", s / 1e6 }')" \
  "$size_stripped" "$(awk -v s="$size_stripped" 'BEGIN { printf "%.1f", s / 1e6 }')"

# Sum of Pss (kB) of a process and all its descendants, with "name=kB" per process.
pss_tree() {
  local root=$1 pids=("$1") i=0 total=0 parts=() pid kb name
  while [ $i -lt ${#pids[@]} ]; do
    for child in $(cat /proc/"${pids[$i]}"/task/*/children 2>/dev/null); do pids+=("$child"); done
    i=$((i + 1))
  done
  for pid in "${pids[@]}"; do
    kb=$(awk '/^Pss:/ { print $2 }' /proc/"$pid"/smaps_rollup 2>/dev/null || echo 0)
    name=$(cat /proc/"$pid"/comm 2>/dev/null || echo gone)
    [ -n "$kb" ] || kb=0
    total=$((total + kb))
    parts+=("\"$name\":$((kb * 1024 / 1000000))")
  done
  local IFS=,
  printf '"pss_mb":%s,"pss_by_process_mb":{%s}' "$((total * 1024 / 1000000))" "${parts[*]}"
}

# Whether the RGB dump on stdin holds the colour given as three \xNN bytes.
has_colour() { LC_ALL=C grep -qaP "$1" "$2"; }

results=()
for run in $(seq 1 "$RUNS"); do
  tmp="$(mktemp -d)"
  display=$((90 + run))
  while [ -e "/tmp/.X11-unix/X$display" ] || [ -e "/tmp/.X$display-lock" ]; do display=$((display + 10)); done
  Xvfb ":$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
  xvfb_pid=$!
  for _ in $(seq 100); do xwininfo -display ":$display" -root >/dev/null 2>&1 && break; sleep 0.05; done
  mkdir -p "$tmp/home" "$tmp/run" && chmod 700 "$tmp/run"
  # The session and keyring come up first; the app starts when "go" appears.
  DISPLAY=":$display" HOME="$tmp/home" XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config" \
    XDG_CACHE_HOME="$tmp/cache" XDG_RUNTIME_DIR="$tmp/run" NO_AT_BRIDGE=1 \
    dbus-run-session -- sh -c 'printf %s bench | gnome-keyring-daemon --unlock --components=secrets >/dev/null
      touch "$1/ready"; while [ ! -e "$1/go" ]; do sleep 0.01; done
      echo $$ > "$1/app.pid"; exec "$0" >"$1/app.log" 2>&1' "$BIN" "$tmp" 2>"$tmp/session.log" &
  session_pid=$!
  for _ in $(seq 200); do [ -e "$tmp/ready" ] && break; sleep 0.05; done
  t0=$(now_ns)
  touch "$tmp/go"
  window="" drawn="" sandbox="" filled=""
  while :; do
    t=$(now_ns)
    [ $((t - t0)) -lt 30000000000 ] || break
    if [ -z "$window" ] && xwininfo -display ":$display" -root -tree 2>/dev/null | grep -q '"Didomi HubSpot Sync"'; then
      window=$(secs "$t0" "$t")
    fi
    if [ -n "$window" ]; then
      import -display ":$display" -window root -depth 8 "rgb:$tmp/shot.rgb" 2>/dev/null || true
      t=$(now_ns)
      [ -z "$drawn" ] && has_colour '\x1f\x4e\x79' "$tmp/shot.rgb" && drawn=$(secs "$t0" "$t")
      [ -z "$sandbox" ] && has_colour '\x3b\x2e\x7e' "$tmp/shot.rgb" && sandbox=$(secs "$t0" "$t")
      [ -z "$filled" ] && has_colour '\x1e\x7b\x4f' "$tmp/shot.rgb" && filled=$(secs "$t0" "$t") && break
    fi
    sleep 0.02
  done
  # Idle memory 10 s after launch (or 3 s after the screen filled, if that was later: a loaded
  # machine can take longer than 10 s, and a half-loaded page would flatter the figure).
  idle_at=$((t0 + 10000000000))
  [ -n "$filled" ] && idle_at=$(awk -v a="$idle_at" -v t="$t0" -v f="$filled" 'BEGIN { b = t + (f + 3) * 1e9; printf "%.0f", (b > a ? b : a) }')
  while [ "$(now_ns)" -lt "$idle_at" ]; do sleep 0.2; done
  app_pid=$(cat "$tmp/app.pid" 2>/dev/null || echo "")
  mem='"pss_mb":null'
  [ -n "$app_pid" ] && [ -d "/proc/$app_pid" ] && mem=$(pss_tree "$app_pid")
  line=$(printf '{"run":%s,"window_s":%s,"drawn_s":%s,"sandbox_s":%s,"filled_s":%s,%s}' "$run" \
    "${window:-null}" "${drawn:-null}" "${sandbox:-null}" "${filled:-null}" "$mem")
  echo "$line"
  results+=("$line")
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null || true
  wait "$session_pid" 2>/dev/null || true
  kill "$xvfb_pid" 2>/dev/null || true
  wait "$xvfb_pid" 2>/dev/null || true
  if [ -z "$filled" ]; then
    echo "bench-startup: run $run never showed the filled screen in 30 s; the app said:" >&2
    tail -20 "$tmp/app.log" >&2 || true
  fi
  rm -rf "$tmp"
done

# Medians of each figure over the runs.
median() {
  local v
  v=$(printf '%s\n' "${results[@]}" | grep -o "\"$1\":[0-9.]*" | cut -d: -f2 | sort -n)
  [ -n "$v" ] || { echo null; return; }
  local n
  n=$(printf '%s\n' "$v" | wc -l)
  printf '%s\n' "$v" | awk -v n="$n" '{ a[NR] = $1 } END { if (n % 2) print a[(n + 1) / 2]; else print (a[n / 2] + a[n / 2 + 1]) / 2 }'
}
printf '{"summary":"median of %s runs","window_s":%s,"drawn_s":%s,"sandbox_s":%s,"filled_s":%s,"pss_mb":%s}\n' \
  "${#results[@]}" "$(median window_s)" "$(median drawn_s)" "$(median sandbox_s)" "$(median filled_s)" "$(median pss_mb)"
