#!/usr/bin/env python3
"""Creates funded API users through the gateway's own endpoints, for the API benchmark.

For each user: POST /api/v1/users (email, password), POST /api/v1/session (login, returns a
bearer token), POST /api/v1/apiKeys (an HMAC key with READ,TRADE; the answer is the only time
the secret is shown), then POST /api/v1/admin/deposit of each --fund ASSET=AMOUNT with the
operator token (X-Spotex-Admin-Token). Writes a JSON array of {email, userId, apiKey,
apiSecret} to --out (mode 0600; it holds secrets), the format api_bench --users reads.

Standard library only. Exit 0 when every user was created and funded, 1 otherwise (the failing
request and its answer are printed).
"""
import argparse
import concurrent.futures
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

USERS_MAX = 100_000
RETRIES = 40


class ApiError(Exception):
    pass


def call(base, method, path, params, headers=None, timeout=60):
    """One request; retried while the server answers 503 (-1008: its password hasher is busy,
    which concurrent registrations cause), at most RETRIES times with a growing pause."""
    body = urllib.parse.urlencode(params).encode()
    for attempt in range(RETRIES + 1):
        req = urllib.request.Request(base + path, data=body, method=method)
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
        for name, value in (headers or {}).items():
            req.add_header(name, value)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return json.loads(resp.read().decode())
        except urllib.error.HTTPError as e:
            text = e.read().decode(errors="replace")
            if e.code != 503 or attempt == RETRIES:
                raise ApiError(f"{method} {path}: HTTP {e.code} {text}")
        except (urllib.error.URLError, OSError) as e:
            raise ApiError(f"{method} {path}: {e}")
        time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def create_user(base, admin_base, admin_token, run_id, index, funding):
    email = f"bench-{run_id}-{index}@bench.spotex.test"
    password = "Bx" + secrets.token_hex(12)
    user = call(base, "POST", "/api/v1/users", {"email": email, "password": password})
    session = call(base, "POST", "/api/v1/session", {"email": email, "password": password})
    auth = {"Authorization": "Bearer " + session["token"]}
    key = call(base, "POST", "/api/v1/apiKeys",
               {"type": "HMAC", "permissions": "READ,TRADE", "label": "api-bench"}, auth)
    for asset, amount in funding:
        call(admin_base, "POST", "/api/v1/admin/deposit",
             {"userId": user["userId"], "asset": asset, "amount": amount},
             {"X-Spotex-Admin-Token": admin_token})
    return {"email": email, "userId": user["userId"], "apiKey": key["apiKey"],
            "apiSecret": key["secretKey"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="http://127.0.0.1:PORT")
    parser.add_argument("--admin-url", help="a gateway's own port for the deposits, when --url "
                        "is HAProxy's (the edge refuses the admin paths); default --url")
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--admin-token-file", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--fund", action="append", default=[],
                        help="ASSET=AMOUNT deposited into each user (repeatable)")
    parser.add_argument("--parallel", type=int, default=2)
    args = parser.parse_args()
    if not 1 <= args.count <= USERS_MAX or not 1 <= args.parallel <= 64:
        parser.error(f"--count must be 1..{USERS_MAX} and --parallel 1..64")
    funding = []
    for item in args.fund or ["BTC=10", "USDT=1000000"]:
        asset, sep, amount = item.partition("=")
        if not sep or not asset or not amount:
            parser.error(f"--fund {item!r}: expected ASSET=AMOUNT")
        funding.append((asset, amount))
    with open(args.admin_token_file) as f:
        admin_token = f.readline().strip()
    base = args.url.rstrip("/")
    admin_base = (args.admin_url or args.url).rstrip("/")
    run_id = secrets.token_hex(4)
    users = [None] * args.count
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.parallel) as pool:
        futures = {pool.submit(create_user, base, admin_base, admin_token, run_id, i, funding): i
                   for i in range(args.count)}
        for future in concurrent.futures.as_completed(futures):
            try:
                users[futures[future]] = future.result()
            except ApiError as e:
                print(f"create_users: user {futures[future]}: {e}", file=sys.stderr)
                pool.shutdown(cancel_futures=True)
                return 1
    fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(users, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
