#!/usr/bin/env bash
# Fails if any secret a stack run used appears in the stack's logs (docs/logging.md: secrets are
# never logged). run.sh calls it after the client tests; check_secrets_test.sh checks that it
# finds what it must find.
#
# Usage: tests/e2e/check_secrets.sh VAR_DIR
# The secrets, each one a fixed string (those shorter than 8 characters are ignored: they
# would match by chance):
#   - every line of every file under VAR_DIR/secrets (NATS, PostgreSQL and Redis passwords, the
#     admin token, the master key, the edge's TLS key; certificates (*.crt, *.pem) are public
#     or repeat the key, and PEM armour lines are skipped);
#   - the demo users' passwords and API secrets (VAR_DIR/demo/users.json);
#   - every line of VAR_DIR/test-secrets.txt: the passwords, API secrets, session tokens and
#     listenKeys the client tests created (tests/e2e/lib.mjs noteSecret).
# The logs: every file under VAR_DIR/log. On a find it names the log file, the line number and
# where the secret came from, and shows only the secret's first 4 characters.
set -euo pipefail

var="${1:?usage: check_secrets.sh VAR_DIR}"
[ -d "$var/log" ] || {
  echo "check_secrets: no log directory $var/log" >&2
  exit 2
}
work="$(mktemp -d "${TMPDIR:-/tmp}/spotex-secrets.XXXXXX")"
trap 'rm -rf "$work"' EXIT
list="$work/secrets.tsv" # <secret> TAB <source>

add_lines() { # file source
  local line
  while IFS= read -r line || [ -n "$line" ]; do
    line="${line%$'\r'}"
    case "$line" in -----*) continue ;; esac
    if [ "${#line}" -ge 8 ]; then
      printf '%s\t%s\n' "$line" "$2"
    fi
  done <"$1" >>"$list"
}

: >"$list"
if [ -d "$var/secrets" ]; then
  while IFS= read -r -d '' f; do
    case "$f" in *.crt | *.pem) continue ;; esac
    add_lines "$f" "secrets/${f#"$var/secrets/"}"
  done < <(find "$var/secrets" -type f -print0)
fi
if [ -s "$var/demo/users.json" ]; then
  node -e '
    const users = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    for (const u of users) {
      for (const k of ["password", "apiSecret"]) {
        if (typeof u[k] === "string" && u[k].length >= 8 && !/[\t\n]/.test(u[k])) {
          console.log(`${u[k]}\tdemo/users.json ${k} of ${u.email ?? "?"}`);
        }
      }
    }' "$var/demo/users.json" >>"$list"
fi
if [ -f "$var/test-secrets.txt" ]; then
  add_lines "$var/test-secrets.txt" "test-secrets.txt"
fi

count="$(cut -f1 "$list" | sort -u | wc -l)"
cut -f1 "$list" | sort -u >"$work/patterns"
mapfile -t logs < <(find "$var/log" -type f | sort)
found=0
if [ "$count" -gt 0 ] && [ "${#logs[@]}" -gt 0 ]; then
  # -o: the matching secret itself, to name its source; -a: logs may hold binary bytes.
  while IFS= read -r hit; do
    file="${hit%%:*}"
    rest="${hit#*:}"
    lineno="${rest%%:*}"
    secret="${rest#*:}"
    source="$(awk -F '\t' -v s="$secret" '$1 == s { print $2; exit }' "$list")"
    echo "check_secrets: ${file#"$var/"}:$lineno holds a secret (${secret:0:4}..., from $source)" >&2
    found=$((found + 1))
  done < <(grep -a -n -o -H -F -f "$work/patterns" "${logs[@]}" || true)
fi
if [ "$found" -gt 0 ]; then
  echo "check_secrets: FAIL: $found secret occurrence(s) in the logs" >&2
  exit 1
fi
echo "check_secrets: none of $count secrets in ${#logs[@]} log files"
