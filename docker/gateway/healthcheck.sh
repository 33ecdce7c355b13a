#!/bin/bash
# HEALTHCHECK of the gateway image: GET /health on the admin API inside the container (bash's /dev/tcp, so the
# image needs no curl). 200 = every export has a usable path. The port comes from MPATH_ADMIN (default 9810); the
# bearer token from MPATH_ADMIN_TOKEN, else the file MPATH_ADMIN_TOKEN_FILE names, else the one the entrypoint
# wrote (/run/mpath-nbd/admin.token). Nothing printed here shows the token: docker keeps this output.
admin=${MPATH_ADMIN:-0.0.0.0:9810}
port=${admin##*:}
token=${MPATH_ADMIN_TOKEN:-}
token_file=${MPATH_ADMIN_TOKEN_FILE:-/run/mpath-nbd/admin.token}
if [ -z "$token" ] && [ -r "$token_file" ]; then
  token=$(<"$token_file")
fi
auth=
[ -n "$token" ] && auth="Authorization: Bearer ${token}"$'\r\n'
exec 3<>"/dev/tcp/127.0.0.1/$port" || { echo "admin API not listening on port $port"; exit 1; }
printf 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n%sConnection: close\r\n\r\n' "$auth" >&3
IFS= read -r -t 2 status <&3 || { echo "no answer from the admin API"; exit 1; }
body=$(timeout 1 cat <&3 | sed -e "1,/^\r\{0,1\}$/d" | tr -s " \r\n" " " | cut -c1-300)
exec 3<&-
echo "${status%$'\r'} ${body}"
case "$status" in
  "HTTP/1."?" 200"*) exit 0 ;;
  "HTTP/1."?" 401"*)
    echo "the health check has no valid admin token: set MPATH_ADMIN_TOKEN_FILE to the gateway's token file"
    exit 1 ;;
  *) exit 1 ;;
esac
