#!/usr/bin/env bash
# Runs the @upstash/redis and @vercel/kv SDK tests (sdk.test.mjs) against:
#   * spinel's REST API (in-process engine),
#   * spinel --proxy (SRH file mode) in front of a real redis-server 7.0.15, over redis:// and,
#     when openssl is available, rediss:// (a throw-away CA, trusted through SSL_CERT_FILE).
# Starts every server itself on free loopback ports (or from PORT_BASE, using PORT_BASE..+5)
# and stops them on exit. Called by .ci/run after `cargo test`.
#
# Environment: SPINEL_BIN (default target/debug/spinel, built if missing), REDIS_SERVER
# (default redis-server), PORT_BASE (optional).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
spinel="${SPINEL_BIN:-$root/target/debug/spinel}"
redis_server="${REDIS_SERVER:-redis-server}"

if [ ! -x "$spinel" ]; then
    (cd "$root" && cargo build --bin spinel)
fi
command -v "$redis_server" >/dev/null || { echo "run.sh: $redis_server not found" >&2; exit 1; }
command -v node >/dev/null || { echo "run.sh: node not found" >&2; exit 1; }

work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
if [ -n "${PORT_BASE:-}" ]; then
    resp_port=$PORT_BASE; http_port=$((PORT_BASE + 1)); redis_port=$((PORT_BASE + 2))
    proxy_port=$((PORT_BASE + 3)); tls_port=$((PORT_BASE + 4))
else
    resp_port=$(free_port); http_port=$(free_port); redis_port=$(free_port); proxy_port=$(free_port); tls_port=$(free_port)
fi

wait_http() { # url
    for _ in $(seq 1 200); do
        if curl -sf "$1/" >/dev/null 2>&1; then return 0; fi
        sleep 0.05
    done
    echo "run.sh: $1 did not come up" >&2
    return 1
}
wait_redis() { # port [extra redis-cli args]
    local port=$1; shift
    for _ in $(seq 1 200); do
        if redis-cli -p "$port" "$@" ping 2>/dev/null | grep -q PONG; then return 0; fi
        sleep 0.05
    done
    echo "run.sh: redis on $port did not come up" >&2
    return 1
}

spinel_token="spinel-node-test-token"
"$spinel" --port "$resp_port" --http-port "$http_port" --http-token "$spinel_token" --save "" \
    --appendonly no >"$work/spinel.log" 2>&1 &
pids+=($!)

"$redis_server" --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$work" >"$work/redis.log" 2>&1 &
pids+=($!)

tls_entry=""
tls_token=""
if command -v openssl >/dev/null; then
    (
        cd "$work"
        openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=spinel test CA" \
            -keyout ca.key -out ca.crt >/dev/null 2>&1
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr >/dev/null 2>&1
        printf "subjectAltName=DNS:localhost,IP:127.0.0.1\n" >ext.cnf
        openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 \
            -extfile ext.cnf -out server.crt >/dev/null 2>&1
    )
    "$redis_server" --port 0 --tls-port "$tls_port" --bind 127.0.0.1 --save "" --appendonly no \
        --dir "$work" --tls-cert-file "$work/server.crt" --tls-key-file "$work/server.key" \
        --tls-ca-cert-file "$work/ca.crt" --tls-auth-clients no >"$work/redis-tls.log" 2>&1 &
    pids+=($!)
    tls_token="proxy-tls-token"
    tls_entry=", \"$tls_token\": {\"srh_id\": \"tls\", \"connection_string\": \"rediss://localhost:$tls_port\", \"max_connections\": 2}"
fi

cat >"$work/tokens.json" <<EOF
{
  "proxy-node-token": {"srh_id": "main", "connection_string": "redis://127.0.0.1:$redis_port", "max_connections": 4},
  "proxy-dead-token": {"srh_id": "dead", "connection_string": "redis://127.0.0.1:1", "max_connections": 1}$tls_entry
}
EOF
env SRH_MODE=file SRH_CONFIG_FILE="$work/tokens.json" ${tls_token:+SSL_CERT_FILE="$work/ca.crt"} \
    "$spinel" --proxy --http-port "$proxy_port" >"$work/proxy.log" 2>&1 &
pids+=($!)

wait_redis "$redis_port"
if [ -n "$tls_token" ]; then
    wait_redis "$tls_port" --tls --cacert "$work/ca.crt" -h localhost
fi
wait_http "http://127.0.0.1:$http_port"
wait_http "http://127.0.0.1:$proxy_port"

cd "$here"
if [ ! -d node_modules/@upstash/redis ] || [ ! -d node_modules/@vercel/kv ]; then
    npm ci --no-audit --no-fund >/dev/null
fi

status=0
SPINEL_URL="http://127.0.0.1:$http_port" SPINEL_TOKEN="$spinel_token" \
    PROXY_URL="http://127.0.0.1:$proxy_port" PROXY_TOKEN="proxy-node-token" \
    PROXY_DEAD_TOKEN="proxy-dead-token" PROXY_TLS_TOKEN="$tls_token" \
    node --test --test-concurrency=1 sdk.test.mjs || status=$?
if [ "$status" != 0 ]; then
    echo "--- spinel log"; tail -20 "$work/spinel.log"
    echo "--- proxy log"; tail -20 "$work/proxy.log"
fi
exit "$status"
