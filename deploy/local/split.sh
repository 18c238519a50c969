#!/usr/bin/env bash
# Runs the seed's split on this machine: the four services (user; product = catalog +
# inventory; order = order + cart; payment), two instances of each, on one MariaDB/MySQL (a
# database per service), Redis and RabbitMQ, behind nginx configured from deploy/nginx.
#
# usage: deploy/local/split.sh [PORT]     (default 8080)
#   nginx listens on 127.0.0.1:PORT, the instances on 127.0.0.1:PORT+1 … PORT+8, and their
#   operator listeners (MINIMART_OPS_ADDR: /metrics, /debug/pprof, readiness details) on
#   127.0.0.1:PORT+9 … PORT+16, each 8 above its instance.
#   Ctrl-C (or SIGTERM) stops everything.
#
# environment:
#   MINIMART_SPLIT_DIR        state: secrets, data dirs, logs, nginx config (default ./data/split)
#   MINIMART_SPLIT_MYSQL      server for the databases (default mysql://root@127.0.0.1:3306/)
#   MINIMART_SPLIT_DB_PREFIX  databases <prefix>_user|_product|_order|_payment, also the RabbitMQ
#                             prefix and, with ":", the Redis key prefix (default minimart_split)
#   MINIMART_SPLIT_AMQP_URL   default amqp://guest:guest@127.0.0.1:5672/
#   MINIMART_SPLIT_REDIS_URL  default redis://127.0.0.1:6379/0
#   MINIMART_BIN              use this binary instead of building ./cmd/minimart
#   SPLIT_FRESH=1             drop the databases (and this prefix's cache keys, queues and
#                             data dirs) first
#   SPLIT_RATELIMITS=0        nginx without its rate limits (benchmarks)
#   Any other variable (MINIMART_PASSWORD_COST, MINIMART_ORDER_PAY_TIMEOUT, …) reaches every
#   instance as it is.
#
# Output for programs: once everything answers, one line per process
#   PROC <service> <instance> <pid> <addr> <ops-addr>   (and PROC nginx 1 <pid> 127.0.0.1:PORT -)
# then
#   READY http://127.0.0.1:PORT
# A process that dies (or is killed) is reported on stderr; the others keep running.
set -euo pipefail

die() { echo "split.sh: $*" >&2; exit 1; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
port=${1:-8080}
if ! [[ $port =~ ^[0-9]+$ ]] || ((port < 1 || port + 16 > 65535)); then die "bad port: $port"; fi
state=${MINIMART_SPLIT_DIR:-$root/data/split}
mkdir -p "$state"
state=$(cd "$state" && pwd)
prefix=${MINIMART_SPLIT_DB_PREFIX:-minimart_split}
[[ $prefix =~ ^[A-Za-z0-9_]+$ ]] || die "MINIMART_SPLIT_DB_PREFIX must be letters, digits and _: $prefix"
mysql_url=${MINIMART_SPLIT_MYSQL:-mysql://root@127.0.0.1:3306/}
amqp_url=${MINIMART_SPLIT_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/}
redis_url=${MINIMART_SPLIT_REDIS_URL:-redis://127.0.0.1:6379/0}

command -v curl >/dev/null || die "curl is needed (apt-get install curl)"
command -v mysql >/dev/null || die "the mysql client is needed (apt-get install mariadb-client)"
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx_bin" ] || die "nginx is needed (apt-get install nginx)"

# Peers and modules are what this script decides per service; a value inherited from the
# caller's shell would silently override or add to that.
for v in "${!MINIMART_PEER_@}"; do unset "$v"; done
unset MINIMART_MODULES

# --- the databases ---------------------------------------------------------------------------
[[ $mysql_url =~ ^mysql://([^:@/]+)(:([^@/]*))?@([^:/]+)(:([0-9]+))?/?$ ]] ||
	die "MINIMART_SPLIT_MYSQL must look like mysql://user[:password]@host[:port]/ (got $mysql_url)"
db_user=${BASH_REMATCH[1]} db_pass=${BASH_REMATCH[3]} db_host=${BASH_REMATCH[4]} db_port=${BASH_REMATCH[6]:-3306}
db_auth=$db_user
[ -n "$db_pass" ] && db_auth=$db_user:$db_pass
sql() { MYSQL_PWD=$db_pass mysql -u "$db_user" -h "$db_host" -P "$db_port" --protocol=tcp -e "$1"; }

services=(user product order payment)
declare -A modules=([user]=user [product]="catalog,inventory" [order]="order,cart,promotion" [payment]=payment)
# Node ids: MINIMART_NODE_ID (1, 2) + this offset, as in compose and Kubernetes; the one-shot
# commands take 1000 and 1001.
declare -A offset=([user]=100 [product]=200 [order]=300 [payment]=400)
declare -A first_port=([user]=$((port + 1)) [product]=$((port + 3)) [order]=$((port + 5)) [payment]=$((port + 7)))

if [ "${SPLIT_FRESH:-0}" = 1 ]; then
	echo "split.sh: SPLIT_FRESH=1: dropping ${prefix}_* databases, cache keys, queues and data dirs"
	for svc in "${services[@]}"; do
		sql "DROP DATABASE IF EXISTS \`${prefix}_$svc\`"
		rm -rf "$state/$svc-1" "$state/$svc-2"
	done
	rm -rf "$state/product-media" "$state/init"
	# Cached pages of the old catalog would be served until they expire.
	if command -v redis-cli >/dev/null; then
		redis-cli -u "$redis_url" --scan --pattern "$prefix:*" | xargs -r -n 500 redis-cli -u "$redis_url" UNLINK >/dev/null
	else
		echo "split.sh: no redis-cli: keys under $prefix: in Redis were left as they are" >&2
	fi
	# Queued events about the old data would be delivered to the new instances.
	if [[ $amqp_url =~ @(127\.0\.0\.1|localhost)[:/] ]] && command -v rabbitmqctl >/dev/null; then
		rabbitmqctl -q list_queues name | { grep "^$prefix\." || true; } | while read -r q; do rabbitmqctl -q delete_queue "$q" </dev/null >/dev/null; done
	else
		echo "split.sh: RabbitMQ queues $prefix.* were left as they are (no local rabbitmqctl)" >&2
	fi
fi
for svc in "${services[@]}"; do
	sql "CREATE DATABASE IF NOT EXISTS \`${prefix}_$svc\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
done

# --- secrets, the same for every instance and kept across runs ------------------------------
hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }
secrets=$state/secrets.env
if [ ! -s "$secrets" ]; then
	(umask 077 && printf 'MINIMART_JWT_SECRET=%s\nMINIMART_SERVICE_TOKEN=%s\n' "$(hex 32)" "$(hex 32)" >"$secrets")
fi
jwt_secret=$(sed -n 's/^MINIMART_JWT_SECRET=//p' "$secrets")
service_token=$(sed -n 's/^MINIMART_SERVICE_TOKEN=//p' "$secrets")
if [ ${#jwt_secret} -lt 32 ] || [ ${#service_token} -lt 32 ]; then die "$secrets is damaged: delete it to make new secrets"; fi

# --- the binary ---------------------------------------------------------------------------------
bin=${MINIMART_BIN:-}
if [ -z "$bin" ]; then
	echo "split.sh: building ./cmd/minimart"
	(cd "$root" && go build -o "$state/minimart" ./cmd/minimart)
	bin=$state/minimart
fi
[ -x "$bin" ] || die "MINIMART_BIN=$bin is not an executable"

# urls SERVICE: the base URLs of the service's instances, comma-separated.
urls() { echo "http://127.0.0.1:${first_port[$1]},http://127.0.0.1:$((first_port[$1] + 1))"; }

# run SERVICE NODE_ID OFFSET DATA_DIR ADDR OPS_ADDR COMMAND…: the binary with the service's
# settings.
run() {
	local svc=$1 node=$2 off=$3 data=$4 addr=$5 ops=$6
	shift 6
	local env=(
		MINIMART_MODULES="${modules[$svc]}"
		MINIMART_ADDR="$addr"
		MINIMART_OPS_ADDR="$ops"
		MINIMART_DATA_DIR="$data"
		MINIMART_DB_URL="mysql://$db_auth@$db_host:$db_port/${prefix}_$svc"
		MINIMART_REDIS_URL="$redis_url"
		MINIMART_CACHE_PREFIX="$prefix:"
		MINIMART_AMQP_URL="$amqp_url"
		MINIMART_AMQP_PREFIX="$prefix"
		# Not the broker-wide default queue: other shops on this broker consume that one.
		MINIMART_INVENTORY_QUEUE="$prefix.inventory_update"
		MINIMART_JWT_SECRET="$jwt_secret"
		MINIMART_SERVICE_TOKEN="$service_token"
		MINIMART_NODE_ID="$node"
		MINIMART_NODE_ID_OFFSET="$off"
		MINIMART_PUBLIC_URL="http://127.0.0.1:$port"
		MINIMART_TRUSTED_PROXIES=127.0.0.1/32
	)
	case $svc in
	product) env+=(MINIMART_PEER_ORDER="$(urls order)" MINIMART_PEER_USER="$(urls user)") ;;
	order) env+=(MINIMART_PEER_CATALOG="$(urls product)" MINIMART_PEER_INVENTORY="$(urls product)" MINIMART_PEER_USER="$(urls user)") ;;
	payment) env+=(MINIMART_PEER_ORDER="$(urls order)" MINIMART_PEER_USER="$(urls user)") ;;
	esac
	# exec: run is always called in a subshell (… & or $(…)), which the binary replaces, so $!
	# is the binary's own pid: a signal sent to a PROC pid reaches Minimart itself.
	exec env "${env[@]}" "$bin" "$@"
}

# --- first run: the admin account and the demo catalog -----------------------------------------
# Before any instance starts, so the product instances build their search index from the
# loaded catalog when they start.
mkdir -p "$state/init"
# Both commands refuse with exit status 2 and a message when it was done before: the admin
# exists (username_taken: "…username already exists"), the catalog has categories.
admin_password="Split-$(hex 12)-1"
status=0
out=$(run user 1000 0 "$state/init" 127.0.0.1:0 off admin create --username admin --password-file - --role admin <<<"$admin_password" 2>&1) || status=$?
if [ "$status" = 0 ]; then
	echo "Created admin account \"admin\" with password $admin_password"
	echo "  (shown only now; log in at POST /api/v1/admin/auth/login)"
elif [ "$status" = 2 ] && [[ $out == *"username already exists"* ]]; then
	echo "split.sh: the admin account exists (its password was shown on the first run)"
else
	die "admin create failed: $out"
fi
unset admin_password
status=0
out=$(run product 1001 0 "$state/init" 127.0.0.1:0 off demo load 2>&1) || status=$?
if [ "$status" = 0 ]; then
	echo "${out##*$'\n'}"
elif [ "$status" = 2 ] && [[ $out == *"already has categories"* ]]; then
	echo "split.sh: the catalog is not empty; the demo catalog was not loaded"
else
	die "demo load failed: $out"
fi

# --- the instances -------------------------------------------------------------------------------
procs=() # "service instance pid addr ops-addr", in start order
pids=()
stop_all() {
	trap - INT TERM EXIT
	((${#pids[@]})) || return 0
	kill -TERM "${pids[@]}" 2>/dev/null || true
	local deadline=$((SECONDS + 10))
	while ((SECONDS < deadline)) && kill -0 "${pids[@]}" 2>/dev/null; do sleep 0.2; done
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap stop_all EXIT

# The product instances serve images from one directory, so an upload through one is found
# through the other (compose shares a volume the same way).
mkdir -p "$state/product-media"
for svc in "${services[@]}"; do
	for i in 1 2; do
		addr=127.0.0.1:$((first_port[$svc] + i - 1))
		ops=127.0.0.1:$((first_port[$svc] + i - 1 + 8))
		data=$state/$svc-$i
		mkdir -p "$data"
		[ -e "$data/media" ] || [ "$svc" != product ] || ln -s ../product-media "$data/media"
		run "$svc" "$i" "${offset[$svc]}" "$data" "$addr" "$ops" serve >>"$state/$svc-$i.log" 2>&1 &
		procs+=("$svc $i $! $addr $ops")
		pids+=("$!")
	done
done

# wait_ready NAME PID URL LOG: until URL answers 200, or the process dies, or 90 s pass.
wait_ready() {
	local deadline=$((SECONDS + 90))
	until curl -fs -o /dev/null --max-time 2 "$3"; do
		if ! kill -0 "$2" 2>/dev/null; then
			echo "split.sh: $1 exited; the end of $4:" >&2
			tail -n 20 "$4" >&2
			exit 1
		fi
		((SECONDS < deadline)) || die "$1 is not ready after 90 s (see $4)"
		sleep 0.2
	done
}
for p in "${procs[@]}"; do
	read -r svc i pid addr _ <<<"$p"
	wait_ready "$svc-$i" "$pid" "http://$addr/readyz" "$state/$svc-$i.log"
done

# --- nginx ---------------------------------------------------------------------------------------
upstreams=()
for svc in "${services[@]}"; do
	upstreams+=("$svc=127.0.0.1:${first_port[$svc]},127.0.0.1:$((first_port[$svc] + 1))")
done
NGINX_RATELIMITS=${SPLIT_RATELIMITS:-1} "$root/deploy/local/nginx-conf.sh" "$state/nginx" "127.0.0.1:$port" "${upstreams[@]}"
"$nginx_bin" -p "$state/nginx/" -c "$state/nginx/nginx.conf" -e stderr -g 'daemon off;' >>"$state/nginx.log" 2>&1 &
procs+=("nginx 1 $! 127.0.0.1:$port -")
pids+=("$!")
wait_ready nginx "$!" "http://127.0.0.1:$port/healthz" "$state/nginx.log"

cat <<EOF
Minimart split serving at http://127.0.0.1:$port (state and logs in $state)
  shop     http://127.0.0.1:$port/
  console  http://127.0.0.1:$port/admin/
  API      http://127.0.0.1:$port/api/v1
  docs     http://127.0.0.1:$port/docs
EOF
for p in "${procs[@]}"; do echo "PROC $p"; done
echo "READY http://127.0.0.1:$port"

# Keep running while anything does; report each process that ends (a test may kill some).
while [ -n "$(jobs -pr)" ]; do
	status=0
	wait -n -p ended || status=$?
	# ended stays empty when no child was left to wait for (the last one ended just before).
	[ -n "${ended:-}" ] && echo "split.sh: pid $ended exited with status $status" >&2
	ended=
done
