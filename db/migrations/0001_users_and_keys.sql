-- Users and their API keys: the system of record the gateway authenticates against.
-- Forward-only: once applied anywhere, this file never changes (spotex-migrate checks its
-- checksum); a later change is a new, higher-numbered file. See docs/database.md.
--
-- spotex-migrate runs this file inside one transaction and records it in schema_migrations
-- (which it creates itself), so it must not contain BEGIN/COMMIT or statements that cannot run
-- in a transaction (CREATE INDEX CONCURRENTLY, VACUUM).

-- A user is also an engine account: users.id is the account id in every engine command, so it
-- is a positive 64-bit integer from a sequence and is never reused (sequences never hand out a
-- value twice, even after a rollback; users are frozen, never deleted). GENERATED ALWAYS (the
-- standard form of bigserial) also refuses an INSERT that picks its own id, which could
-- otherwise collide with a future sequence value.
CREATE TABLE users (
  id            bigint      GENERATED ALWAYS AS IDENTITY (MINVALUE 1 START WITH 1 NO CYCLE)
                            PRIMARY KEY,
  -- Kept as the user typed it; uniqueness and look-ups are on lower(email), so two spellings
  -- that differ only in case are the same user (no citext: the extension may be missing).
  email         text        NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
  -- An argon2id string ($argon2id$v=19$m=...,t=...,p=...$salt$hash), produced by src/auth.
  password_hash text        NOT NULL CHECK (length(password_hash) BETWEEN 1 AND 512),
  status        text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'frozen')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  CHECK (id > 0)
);
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

-- API keys. kind HMAC: the secret, encrypted by the application with the master key
-- (secret_ciphertext; the database never sees the plaintext). kind ED25519: the client's raw
-- 32-byte public key only. A deleted key keeps its row (deleted_at set, ciphertext wiped) so
-- its api_key string is never issued again and its id stays unique in audit trails.
CREATE TABLE api_keys (
  id                bigint      GENERATED ALWAYS AS IDENTITY (MINVALUE 1 START WITH 1 NO CYCLE)
                                PRIMARY KEY,
  user_id           bigint      NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  api_key           text        NOT NULL CHECK (api_key ~ '^[A-Za-z0-9]{64}$'),
  kind              text        NOT NULL CHECK (kind IN ('HMAC', 'ED25519')),
  secret_ciphertext bytea       CHECK (octet_length(secret_ciphertext) BETWEEN 1 AND 1024),
  public_key        bytea       CHECK (octet_length(public_key) = 32),
  -- Bitmask: 1 = read (USER_DATA), 2 = trade (TRADE). Unknown bits are refused.
  permissions       integer     NOT NULL CHECK (permissions >= 0 AND (permissions & ~3) = 0),
  -- Client addresses or CIDR blocks the key may be used from; NULL = any address.
  ip_allowlist      text[]      CHECK (ip_allowlist IS NULL OR
                                       (array_ndims(ip_allowlist) = 1 AND
                                        cardinality(ip_allowlist) BETWEEN 1 AND 32 AND
                                        array_position(ip_allowlist, NULL) IS NULL)),
  label             text        NOT NULL DEFAULT '' CHECK (length(label) <= 128),
  created_at        timestamptz NOT NULL DEFAULT now(),
  deleted_at        timestamptz,
  CONSTRAINT api_keys_api_key_key UNIQUE (api_key),
  -- A live key carries exactly the material its kind needs; a deleted HMAC key has none left.
  CONSTRAINT api_keys_material_check CHECK (
    (kind = 'HMAC' AND public_key IS NULL AND
       (secret_ciphertext IS NOT NULL OR deleted_at IS NOT NULL)) OR
    (kind = 'ED25519' AND secret_ciphertext IS NULL AND public_key IS NOT NULL))
);

-- The gateway's hot path is `WHERE api_key = $1 AND deleted_at IS NULL` joined to users by
-- primary key: the unique index above (api_keys_api_key_key) answers it with one index probe.
-- Listing and counting a user's live keys (and the foreign key's look-ups) use this one.
CREATE INDEX api_keys_user_live_idx ON api_keys (user_id) WHERE deleted_at IS NULL;
