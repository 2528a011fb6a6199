#!/usr/bin/env bash
# The console's end-to-end tests drive Debian's chromium through playwright-core (executablePath): a
# browser from the distribution's packages, never one downloaded by Playwright. Prints the browser's path;
# installs it with apt when running as root on Debian or Ubuntu, and otherwise names the command to run.
set -euo pipefail
for candidate in "${CHROMIUM_PATH:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then
    echo "$candidate"
    exit 0
  fi
done
if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
  echo "installing chromium for the console's browser tests" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null
  echo /usr/bin/chromium
  exit 0
fi
echo "the console's browser tests need Chromium: sudo apt-get install chromium (or set CHROMIUM_PATH)" >&2
exit 1
