#!/bin/sh
# Posts the transitions of `xfed watch` to a Teams or Slack channel through an incoming webhook:
#
#   WEBHOOK_URL=https://... xfed watch suite.yaml --on-change ./docs/examples/on-change-webhook.sh
#
#   WEBHOOK_URL     the webhook's address (required). It is a secret: this script never prints it,
#                   and hands it to curl on its standard input, not on a command line `ps` shows.
#   WEBHOOK_FORMAT  slack (default: {"text": ...}) or teams (an Adaptive Card, which the webhooks
#                   of Teams' Workflows app take; Office 365 connector webhooks are retired).
#   WEBHOOK_CHECKS  overall (default: only the federation as a whole, one message per break and
#                   one per recovery) or all (every check's transitions too).
#
# xfed gives each hook the transition in XFED_* variables (XFED_TEXT is a ready sentence), each
# one line, and the whole transition as JSON in XFED_EVENT_JSON for scripts that want more.
set -eu

: "${WEBHOOK_URL:?set WEBHOOK_URL to the address of the incoming webhook}"

if [ "${WEBHOOK_CHECKS:-overall}" != all ] && [ "${XFED_CHECK:-}" != '*' ]; then
  exit 0
fi

text=${XFED_TEXT:-xfed: ${XFED_CHECK:-?} ${XFED_FROM:-?} -> ${XFED_TO:-?} at ${XFED_AT:-?}}
if [ -n "${XFED_URL:-}" ]; then
  text="$text (timeline: $XFED_URL)"
fi

# xfed's values hold no control characters: escaping backslashes and quotes makes a JSON string.
json_string() {
  printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g'
}

case "${WEBHOOK_FORMAT:-slack}" in
  slack)
    # Slack reads <, > and & as markup in text.
    body=$(printf '{"text":"%s"}' "$(json_string "$(printf '%s' "$text" | sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g')")")
    ;;
  teams)
    body=$(printf '{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{"$schema":"http://adaptivecards.io/schemas/adaptive-card.json","type":"AdaptiveCard","version":"1.4","body":[{"type":"TextBlock","text":"%s","wrap":true}]}}]}' "$(json_string "$text")")
    ;;
  *)
    echo "on-change-webhook: WEBHOOK_FORMAT must be slack or teams, not '$WEBHOOK_FORMAT'" >&2
    exit 2
    ;;
esac

# curl's own errors name the host at most, never the path that holds the webhook's token.
printf 'url = "%s"\n' "$WEBHOOK_URL" |
  curl --config - --silent --show-error --fail --max-time 10 \
    --header 'Content-Type: application/json' --data-binary "$body" --output /dev/null
