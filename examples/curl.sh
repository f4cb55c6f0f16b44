#!/usr/bin/env sh
# A completion with curl, printing the Portal envelope.
#   PORTAL_API_KEY=cx_live_… ./examples/curl.sh ["your prompt"]
set -eu
: "${PORTAL_API_KEY:?set PORTAL_API_KEY to a key (npm start prints one on first start)}"
PORTAL_URL="${PORTAL_URL:-http://127.0.0.1:8080}"
PROMPT="${1:-Explain decentralized AI inference in one sentence.}"
# JSON-escape the prompt (backslashes and double quotes) without needing jq.
ESCAPED=$(printf '%s' "$PROMPT" | sed 's/\\/\\\\/g; s/"/\\"/g')

curl -sS --fail-with-body "$PORTAL_URL/v1/completions" \
  -H "Authorization: Bearer $PORTAL_API_KEY" \
  -H "Content-Type: application/json" \
  -d "{\"model\":\"default\",\"prompt\":\"$ESCAPED\",\"max_tokens\":32}"
echo
