#!/bin/sh
# The terminal's screen: Chromium in kiosk mode on the local touch UI, nothing else.
# Started by the kiosk user's graphical session (see README.md). --incognito keeps no
# history, cache or form data between voters; the UI itself keeps nothing in the browser.
set -eu
URL="${SPILNO_KIOSK_URL:-http://127.0.0.1:8080}"

# Wait for the kiosk service, so the first screen is the terminal's and not an error page.
if command -v curl >/dev/null 2>&1; then
    for _ in $(seq 1 60); do
        curl --silent --output /dev/null "$URL/state" && break
        sleep 1
    done
fi

exec chromium --kiosk --incognito --noerrdialogs --disable-translate --no-first-run \
    --disable-pinch --overscroll-history-navigation=0 --disable-features=TranslateUI \
    --check-for-update-interval=31536000 \
    --app="$URL"
