#!/usr/bin/env bash
# check_secrets.sh finds each kind of secret in a log and passes clean logs: a fake VAR_DIR with
# a secrets directory, a demo users file and the client tests' secrets file, against logs that
# hold none of them, then one of each, then only ones shorter than 8 characters.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
check="$here/check_secrets.sh"
var="$(mktemp -d "${TMPDIR:-/tmp}/spotex-secrets-test.XXXXXX")"
trap 'rm -rf "$var"' EXIT
fail() {
  echo "check_secrets_test: FAIL: $*" >&2
  exit 1
}

mkdir -p "$var/secrets/tls" "$var/demo" "$var/log"
printf 'aaaa1111bbbb2222cccc3333' >"$var/secrets/pg-password"  # no newline, as stack.sh writes
printf 'admin-token-0123456789\n' >"$var/secrets/admin-token"
printf -- '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49tlskeyline\n-----END PRIVATE KEY-----\n' \
  >"$var/secrets/tls/edge.key"
printf -- '-----BEGIN CERTIFICATE-----\npubliccertificateline\n-----END CERTIFICATE-----\n' \
  >"$var/secrets/tls/edge.crt"
cat >"$var/demo/users.json" <<'JSON'
[{"email":"a@x","password":"demo-password-A","apiKey":"PUBLICKEYAAAA","apiSecret":"demoSecretAAAAAAAA"},
 {"email":"b@x","password":"pw","apiKey":"PUBLICKEYBBBB","apiSecret":"demoSecretBBBBBBBB"}]
JSON
printf 'pw-created-by-a-test\nsessiontoken123456789\nlistenKeyXYZ0123456789\nshort\n' \
  >"$var/test-secrets.txt"
clean='{"ts":"t","level":"info","component":"http","msg":"request","path":"/api/v3/order"}'
echo "$clean" >"$var/log/gateway-1.log"
echo "apiKey PUBLICKEYAAAA and publiccertificateline are not secrets" >"$var/log/stack.log"

"$check" "$var" >/dev/null || fail "clean logs were reported"

for secret in aaaa1111bbbb2222cccc3333 admin-token-0123456789 MIGHAgEAMBMGByqGSM49tlskeyline \
  demo-password-A demoSecretBBBBBBBB pw-created-by-a-test sessiontoken123456789 \
  listenKeyXYZ0123456789; do
  cp "$var/log/gateway-1.log" "$var/log/gateway-2.log"
  echo "{\"msg\":\"oops /ws/$secret here\"}" >>"$var/log/gateway-2.log"
  if out="$("$check" "$var" 2>&1)"; then
    fail "a logged secret (${secret:0:4}...) was not found"
  fi
  case "$out" in *"gateway-2.log:2 holds a secret"*) ;; *) fail "no location in: $out" ;; esac
  case "$out" in *"$secret"*) fail "the report shows the whole secret: $out" ;; esac
  rm "$var/log/gateway-2.log"
done

# Secrets under 8 characters ("pw", "short") would match by chance: ignored.
echo "pw short" >>"$var/log/gateway-1.log"
"$check" "$var" >/dev/null || fail "a secret shorter than 8 characters was reported"
echo "check_secrets_test: passed"
