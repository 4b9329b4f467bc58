#!/usr/bin/env bash
# Installs the Debian packages Flowbench needs when they are missing. Needs root or sudo.
#
#   system-deps.sh        what the test suite needs: bubblewrap (the function sandbox), nodejs,
#                         ruby (the Ruby runtime), golang-go (builds the Go custom-runtime test),
#                         chromium (browser tests) and fonts-noto-cjk (the seed's Korean text);
#                         fails when it cannot install them.
#   system-deps.sh run    what serving needs: bubblewrap only. When it cannot install it (no root,
#                         no sudo, no apt-get), it says so and succeeds: the server then refuses to
#                         run functions and says how to fix that.
set -euo pipefail
mode="${1:-test}"
want=()
command -v bwrap >/dev/null 2>&1 || want+=(bubblewrap)
if [ "$mode" != run ]; then
  command -v node >/dev/null 2>&1 || want+=(nodejs)
  [ -x /usr/bin/ruby ] || want+=(ruby)
  [ -x /usr/bin/go ] || want+=(golang-go)
  [ -x /usr/bin/chromium ] || want+=(chromium)
  fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || want+=(fonts-noto-cjk)
fi
[ ${#want[@]} -eq 0 ] && exit 0

install() {
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then echo "not root and no sudo"; return 1; fi
    # `make run` must not stop at a password prompt: sudo only when it needs none.
    if [ "$mode" = run ] && ! sudo -n true 2>/dev/null; then echo "sudo needs a password"; return 1; fi
    sudo="sudo"
  fi
  command -v apt-get >/dev/null 2>&1 || { echo "no apt-get on this system"; return 1; }
  echo "installing: ${want[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
}

if [ "$mode" = run ]; then
  if ! why="$(install 2>&1)"; then
    echo "Could not install bubblewrap (${why##*$'\n'}): functions will refuse to run until it is installed"
    echo "(sudo apt-get install bubblewrap) or FLOWBENCH_SANDBOX=plain is set. Continuing."
  elif [ -n "$why" ]; then
    echo "$why"
  fi
else
  install
fi
