#!/usr/bin/env bash
# Writes an nginx configuration for Minimart's split on one machine from the shared files in
# deploy/nginx (minimart.conf, locations.conf, tls.conf, ratelimit*.conf), which it includes
# where they are: only the main file and the upstreams differ from compose and Kubernetes.
# Used by split.sh and by the tests in deploy/.
#
# usage: nginx-conf.sh OUT_DIR LISTEN_ADDR user=ADDR[,ADDR…] product=… order=… payment=…
#   ADDR is host:port of one instance; every service needs at least one.
#   Writes OUT_DIR/nginx.conf and OUT_DIR/upstreams.conf; run nginx with
#     nginx -p OUT_DIR/ -c OUT_DIR/nginx.conf -g 'daemon off;'
#   (pid, temporary files and the access log go under OUT_DIR; errors to stderr).
# environment:
#   NGINX_RATELIMITS=0   include ratelimit-off.conf instead of ratelimit.conf (benchmarks)
#   NGINX_TLS_ADDR, NGINX_TLS_CERT, NGINX_TLS_KEY
#                        also serve HTTPS (HTTP/2) on that address with that PEM pair
set -euo pipefail

die() { echo "nginx-conf.sh: $*" >&2; exit 2; }

[ $# -ge 2 ] || die "usage: nginx-conf.sh OUT_DIR LISTEN_ADDR user=ADDR[,ADDR…] product=… order=… payment=…"
out=$1 listen=$2
shift 2
shared=$(cd "$(dirname "${BASH_SOURCE[0]}")/../nginx" && pwd)

# nginx reads double-quoted strings; a path holding a quote or backslash would need escaping
# that no sane checkout path needs.
for p in "$out" "$shared" "${NGINX_TLS_CERT:-}" "${NGINX_TLS_KEY:-}"; do
	case $p in *'"'* | *\\*) die "path with a quote or backslash: $p" ;; esac
done
addr_ok() { [[ $1 =~ ^[A-Za-z0-9.:_-]+:[0-9]{1,5}$ || $1 =~ ^\[[0-9A-Fa-f:.]+\]:[0-9]{1,5}$ ]]; }
addr_ok "$listen" || die "bad listen address: $listen"

declare -A instances=()
for arg in "$@"; do
	name=${arg%%=*} list=${arg#*=}
	case $name in user | product | order | payment) ;; *) die "unknown service in $arg (user, product, order, payment)" ;; esac
	if [ "$name" = "$arg" ] || [ -z "$list" ]; then die "no instances in $arg"; fi
	IFS=, read -r -a addrs <<<"$list"
	for a in "${addrs[@]}"; do addr_ok "$a" || die "bad address $a in $arg"; done
	instances[$name]=$list
done
for name in user product order payment; do
	[ -n "${instances[$name]:-}" ] || die "no instances for $name"
done
mkdir -p "$out"
out=$(cd "$out" && pwd)

{
	echo "# Written by deploy/local/nginx-conf.sh; see deploy/nginx/upstreams.conf for what each line does."
	for name in user product order payment; do
		echo
		echo "upstream minimart_$name {"
		echo "    zone minimart_$name 64k;"
		IFS=, read -r -a addrs <<<"${instances[$name]}"
		for a in "${addrs[@]}"; do echo "    server $a max_fails=3 fail_timeout=10s;"; done
		echo "    keepalive 32;"
		echo "    keepalive_timeout 60s;"
		echo "}"
	done
} >"$out/upstreams.conf"

ratelimit="ratelimit.conf"
if [ "${NGINX_RATELIMITS:-1}" = 0 ]; then ratelimit="ratelimit-off.conf"; fi

tls_server=
if [ -n "${NGINX_TLS_ADDR:-}" ]; then
	addr_ok "$NGINX_TLS_ADDR" || die "bad NGINX_TLS_ADDR: $NGINX_TLS_ADDR"
	if [ ! -r "${NGINX_TLS_CERT:-}" ] || [ ! -r "${NGINX_TLS_KEY:-}" ]; then
		die "NGINX_TLS_ADDR needs readable NGINX_TLS_CERT and NGINX_TLS_KEY"
	fi
	tls_server="
    server {
        listen $NGINX_TLS_ADDR ssl http2;
        server_name _;
        ssl_certificate \"$NGINX_TLS_CERT\";
        ssl_certificate_key \"$NGINX_TLS_KEY\";
        include \"$shared/tls.conf\";
        include \"$shared/locations.conf\";
    }"
fi

cat >"$out/nginx.conf" <<CONF
# Written by deploy/local/nginx-conf.sh: the main file of the local split's nginx. The
# behaviour lives in the shared files it includes from $shared.
worker_processes auto;
pid "$out/nginx.pid";
error_log stderr warn;

events {
    worker_connections 1024;
}

http {
    default_type application/octet-stream;
    client_body_temp_path "$out/client_body_temp";
    proxy_temp_path "$out/proxy_temp";
    fastcgi_temp_path "$out/fastcgi_temp";
    uwsgi_temp_path "$out/uwsgi_temp";
    scgi_temp_path "$out/scgi_temp";
    keepalive_timeout 65s;

    include "$shared/$ratelimit";
    include "$shared/minimart.conf";
    include "$out/upstreams.conf";
    # After minimart.conf, which defines the format.
    access_log "$out/access.log" minimart_json;

    server {
        listen $listen;
        server_name _;
        include "$shared/locations.conf";
    }$tls_server
}
CONF
