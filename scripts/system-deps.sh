#!/usr/bin/env bash
# Installs the Debian packages the test suite needs when they are missing: bubblewrap (the function
# sandbox), chromium (browser tests) and fonts-noto-cjk (the seed's Korean text). Needs root or sudo.
set -euo pipefail
want=()
command -v bwrap >/dev/null 2>&1 || want+=(bubblewrap)
command -v node >/dev/null 2>&1 || want+=(nodejs)
[ -x /usr/bin/chromium ] || want+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || want+=(fonts-noto-cjk)
[ ${#want[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing: ${want[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
