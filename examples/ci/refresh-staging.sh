#!/usr/bin/env bash
# Refresh a staging database from a saved model, without production access.
#   MODEL=shop.dbsynth STAGING_URL=postgresql://… ./refresh-staging.sh
# Exit codes: 0 refreshed (drift, if any, was additive and filled schema-only); 1 dbsynth error;
# 2 the staging schema drifted incompatibly from the model (refit it in the privileged job).
set -euo pipefail
: "${MODEL:?path of the model file}" "${STAGING_URL:?URL of the staging database}"

set +e
dbsynth check "$MODEL" --against "$STAGING_URL"
drift=$?
set -e
if [ "$drift" -eq 2 ]; then
    echo "the model is stale for this schema: refit it" >&2
    exit 2
fi
# one transaction: a failure leaves staging as it was
dbsynth generate "$MODEL" --target "$STAGING_URL" --truncate --scale "${SCALE:-1}" --seed "${SEED:-0}" \
    --json > refresh-summary.json
