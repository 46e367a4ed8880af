#!/usr/bin/env bash
# Smoke test of Spoolex in a real cluster: MinIO with two buckets, a Trino 483 coordinator and two workers from the
# official image with Spoolex in place of plugin/exchange-filesystem/ (docker-compose.yml). Runs a shuffle-heavy
# TPC-H query with retry_policy=NONE, then with TASK while a worker container is killed in the middle, and checks
# that both runs return the same rows. Needs Docker with the compose plugin (or docker-compose), curl and jq.
#   docker/smoke.sh          build the image from target/ (or build the plugin first), run, tear down
#   KEEP=1 docker/smoke.sh   leave the cluster running afterwards (http://127.0.0.1:8080, MinIO console :9001)
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)

log() {
    printf '[%5ss] %s\n' "$SECONDS" "$*"
}

fail() {
    log "FAILED: $*"
    exit 1
}

if docker compose version >/dev/null 2>&1; then
    compose=(docker compose)
else
    compose=(docker-compose)
fi

# a join on partkey (forced partitioned, so its input is spooled) feeding an aggregation: both read only spooled data
query="SELECT p.brand, p.container, count(*), sum(l.quantity), max(l.shipdate)
FROM tpch.sf1.lineitem l JOIN tpch.sf1.part p ON l.partkey = p.partkey
GROUP BY p.brand, p.container"
coordinator=http://127.0.0.1:8080

shopt -s nullglob
archives=("$root"/target/spoolex-*-exchange-filesystem.tar.gz)
if [ ${#archives[@]} -eq 0 ]; then
    log "no plugin archive in target/: building it (./mvnw package -DskipTests)"
    # shellcheck source=../bin/lib/jdk.sh
    (cd "$root" && source bin/lib/jdk.sh && ./mvnw --batch-mode --quiet package -DskipTests)
    archives=("$root"/target/spoolex-*-exchange-filesystem.tar.gz)
fi
mkdir -p build
cp "${archives[0]}" build/spoolex-exchange-filesystem.tar.gz
log "plugin archive: ${archives[0]}"

work=$(mktemp -d)
cleanup() {
    status=$?
    if [ $status -ne 0 ]; then
        "${compose[@]}" logs --tail 80 coordinator worker-1 worker-2 || true
    fi
    if [ "${KEEP:-}" = 1 ]; then
        log "cluster left running (KEEP=1): ${compose[*]} -f docker/docker-compose.yml down -v to stop it"
    else
        "${compose[@]}" down --volumes --remove-orphans >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
    exit $status
}
trap cleanup EXIT

log "starting MinIO, bucket creation, coordinator, two workers"
"${compose[@]}" up --detach --build

trino() {
    "${compose[@]}" exec -T coordinator trino --output-format TSV "$@"
}

log "waiting for two active workers"
for _ in $(seq 1 120); do
    workers=$(trino --execute "SELECT count(*) FROM system.runtime.nodes WHERE coordinator = false AND state = 'active'" 2>/dev/null || echo 0)
    [ "$workers" = 2 ] && break
    sleep 2
done
[ "$workers" = 2 ] || fail "the workers did not join within 4 minutes"
log "cluster up: $(trino --execute "SELECT node_id || '@' || http_uri FROM system.runtime.nodes ORDER BY node_id" | tr '\n' ' ')"

log "run 1/2: retry_policy=NONE"
trino --session retry_policy=NONE --execute "$query" | sort > "$work/none.tsv"
log "  $(wc -l < "$work/none.tsv") rows"
[ "$(wc -l < "$work/none.tsv")" -gt 100 ] || fail "too few rows"

log "run 2/2: retry_policy=TASK; a worker will be killed while it runs a task that reads spooled data"
trino --session retry_policy=TASK --session join_distribution_type=PARTITIONED --source spoolex-smoke-task --execute "$query" > "$work/task.tsv" 2> "$work/task.err" &
client=$!

api() {
    curl --silent --fail --header 'X-Trino-User: spoolex-smoke' "$coordinator$1"
}

query_id=""
victim=""
for _ in $(seq 1 1200); do
    if ! kill -0 "$client" 2>/dev/null; then
        fail "the TASK run ended before a task reading spooled data was seen running"
    fi
    if [ -z "$query_id" ]; then
        query_id=$(api /v1/query | jq -r '[.[] | select(.session.source == "spoolex-smoke-task" and .state != "FINISHED" and .state != "FAILED")][0].queryId // empty' || true)
    fi
    if [ -n "$query_id" ]; then
        # a RUNNING task on a worker, of a stage that scans no table: all its input comes from Spoolex
        victim=$(api "/v1/query/$query_id" | jq -r '[.stages.stages[]? | select((.plan.partitionedSources // []) | length == 0) | .tasks[].taskStatus | select(.state == "RUNNING" and (.nodeId | startswith("worker-")))][0].nodeId // empty' || true)
        [ -n "$victim" ] && break
    fi
    sleep 0.2
done
[ -n "$victim" ] || fail "no task reading spooled data was seen running"
log "  query $query_id: a task reading spooled data runs on $victim: kill -9"
"${compose[@]}" kill --signal SIGKILL "$victim" >/dev/null

if ! wait "$client"; then
    cat "$work/task.err" >&2
    fail "the TASK run failed after $victim was killed"
fi
sort -o "$work/task.tsv" "$work/task.tsv"
log "  $(wc -l < "$work/task.tsv") rows"

failed=$(api "/v1/query/$query_id" | jq -r --arg node "$victim" '[.stages.stages[]?.tasks[].taskStatus | select(.nodeId == $node and .state == "FAILED")] | length')
retried=$(api "/v1/query/$query_id" | jq -r --arg node "$victim" '[.stages.stages[]?.tasks[].taskStatus | select(.nodeId != $node and .state == "FINISHED" and (.taskId | test("\\.[1-9][0-9]*$")))] | length')
log "  task attempts failed on $victim: $failed; retried attempts finished elsewhere: $retried"
[ "$failed" -gt 0 ] || fail "no task failed on the killed worker: the kill missed the query"
[ "$retried" -gt 0 ] || fail "no retried task attempt finished on the surviving worker"

if diff -q "$work/none.tsv" "$work/task.tsv" >/dev/null; then
    log "[ok] rows with a worker killed are identical to the rows of the NONE run"
else
    diff "$work/none.tsv" "$work/task.tsv" | head -20 >&2
    fail "rows differ"
fi

log "restarting $victim"
"${compose[@]}" start "$victim" >/dev/null
log "smoke test passed"
