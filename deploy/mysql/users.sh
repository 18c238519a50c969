# shellcheck shell=bash
# Sourced (not executed) by MySQL's docker entrypoint on the first start, after init.sql: one
# user per service, allowed into its own database only, so a leaked password of one service
# exposes no other's data. Passwords come from <SERVICE>_DB_PASSWORD (see deploy/env.example).
for svc in user product order payment; do
	var="${svc^^}_DB_PASSWORD"
	pass="${!var:?$var is not set}"
	# The password sits in an SQL string literal: refuse what would need escaping.
	case $pass in *"'"* | *\\*) echo "users.sh: $var holds a quote or backslash" >&2; exit 1 ;; esac
	docker_process_sql <<-SQL
		CREATE USER IF NOT EXISTS 'minimart_$svc'@'%' IDENTIFIED BY '$pass';
		GRANT ALL PRIVILEGES ON \`minimart_$svc\`.* TO 'minimart_$svc'@'%';
	SQL
done
