#!/bin/sh
# BitBot's container entrypoint: `bitbot` (python -m meta_strategy.cli, so the start-up checks
# and the offline-markets fallback apply) with the arguments of docker-compose's `command`.
# A `trade` command also gets the promoted meta-model overlay that `bitbot models promote` writes,
# when there is one: Compose itself cannot make an argument depend on a file existing.
set -eu
PROMOTED=user_data/config.promoted.json
if [ "${1:-}" = "trade" ] && [ -f "$PROMOTED" ]; then
    echo "bitbot entrypoint: adding the promoted meta-model overlay --config $PROMOTED" >&2
    set -- "$@" --config "$PROMOTED"
fi
exec python -m meta_strategy.cli "$@"
