#!/bin/sh
# The build, run by `replica-lock run` while it holds the lock: the builder pod is Ready and its
# name, the fencing token and the target are in the environment.
set -eu

echo "building in ${REPLICA_LOCK_NAMESPACE}/${REPLICA_LOCK_POD} (fencing token ${REPLICA_LOCK_TOKEN})"
# The build context must be in the builder pod (a volume it shares with the pipeline, or a
# `kubectl cp` first). The token orders builds: a system the build writes to can refuse a stale holder's writes.
kubectl -n "$REPLICA_LOCK_NAMESPACE" exec "$REPLICA_LOCK_POD" -- \
    buildah bud --tag "app:${DRONE_COMMIT_SHA:-dev}" --label "replicalock.io/token=${REPLICA_LOCK_TOKEN}" .
