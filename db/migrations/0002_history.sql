-- History: the projection of the engine's event stream that spotex-recorder writes and the
-- gateway's historical queries read (issue 6, docs/history.md). The engine stays the source
-- of truth; every row here is derived from one event and names it by (seq, idx): the command's
-- sequence number on the command log and the event's index within the command, i.e. the event
-- id "<shard>:<seq>:<idx>". Forward-only like every migration.
--
-- Conventions:
-- * Amounts are integers in units of their asset's scale (assets.scale): prices and notionals
--   in the quote asset's, quantities in the base asset's, ledger amounts in their own asset's.
--   They are exactly the engine's integers, so sums are exact; history_decimal() prints them.
-- * Times are milliseconds since the epoch (UTC), as the command log stamps them.
-- * Enumerations are the engine's (src/engine/types.h) as smallint: side 0 BUY 1 SELL; order
--   type 0 LIMIT 1 MARKET 2 STOP_LOSS 3 STOP_LOSS_LIMIT 4 TAKE_PROFIT 5 TAKE_PROFIT_LIMIT
--   6 LIMIT_MAKER; time in force 0 none 1 GTC 2 IOC 3 FOK; STP 1 NONE 2 EXPIRE_TAKER
--   3 EXPIRE_MAKER 4 EXPIRE_BOTH; status 0 NEW 1 PARTIALLY_FILLED 2 FILLED 3 CANCELED
--   4 REJECTED 5 EXPIRED 6 EXPIRED_IN_MATCH 7 PENDING_NEW; exec type 0 NEW 1 CANCELED
--   2 REPLACED 3 REJECTED 4 TRADE 5 EXPIRED 6 TRADE_PREVENTION 7 TRIGGERED; expiry reason as
--   engine::ExpiryReason; list status 0 EXEC_STARTED 1 ALL_DONE 2 REJECT.
-- * Ids are one engine shard's (order, trade and list ids are per shard). Spotex runs one
--   shard today; a second one would add shard to these keys (noted in docs/history.md).
-- * The big tables are partitioned by month of time_ms (declarative range partitioning);
--   history_ensure_month() creates a month's partitions, spotex-recorder calls it before it
--   writes a row of a new month, and `spotex-admin archive` detaches closed months.

-- Where the recorder stands, per shard: the last command whose envelope is applied, and the
-- EVT_<shard> stream message that carried it. Updated in the same transaction as the rows, so
-- after any crash the recorder resumes exactly after what is committed.
CREATE TABLE recorder_positions (
  shard       integer     PRIMARY KEY CHECK (shard >= 0),
  command_seq bigint      NOT NULL CHECK (command_seq >= 0),
  stream_seq  bigint      NOT NULL CHECK (stream_seq >= 0),
  events      bigint      NOT NULL DEFAULT 0 CHECK (events >= 0),  -- event records applied
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE assets (
  asset_id integer PRIMARY KEY CHECK (asset_id >= 0),
  name     text    NOT NULL UNIQUE CHECK (name ~ '^[A-Z0-9]{1,20}$'),
  scale    integer NOT NULL CHECK (scale BETWEEN 0 AND 18)
);

CREATE TABLE symbols (
  symbol_id   integer  PRIMARY KEY CHECK (symbol_id >= 0),
  name        text     NOT NULL UNIQUE CHECK (name ~ '^[A-Z0-9]{2,20}$'),
  base_asset  integer  NOT NULL REFERENCES assets (asset_id),
  quote_asset integer  NOT NULL REFERENCES assets (asset_id),
  status      smallint NOT NULL DEFAULT 0 CHECK (status BETWEEN 0 AND 2),  -- TRADING HALT BREAK
  CHECK (base_asset <> quote_asset)
);

-- Every order, with its latest state. Partitioned by the month it was placed (time_ms); the
-- recorder remembers the placement time of open orders to update them.
CREATE TABLE orders (
  order_id        bigint   NOT NULL CHECK (order_id > 0),
  time_ms         bigint   NOT NULL,  -- placed (Binance "time")
  account_id      bigint   NOT NULL CHECK (account_id > 0),
  symbol_id       integer  NOT NULL,
  order_list_id   bigint   NOT NULL DEFAULT -1 CHECK (order_list_id = -1 OR order_list_id > 0),
  client_order_id text     NOT NULL CHECK (length(client_order_id) BETWEEN 1 AND 36),
  side            smallint NOT NULL CHECK (side IN (0, 1)),
  type            smallint NOT NULL CHECK (type BETWEEN 0 AND 6),
  time_in_force   smallint NOT NULL CHECK (time_in_force BETWEEN 0 AND 3),
  stp_mode        smallint NOT NULL CHECK (stp_mode BETWEEN 1 AND 4),
  price           bigint   NOT NULL CHECK (price >= 0),
  qty             bigint   NOT NULL CHECK (qty >= 0),
  quote_qty       bigint   NOT NULL CHECK (quote_qty >= 0),  -- quoteOrderQty of MARKET orders
  stop_price      bigint   NOT NULL CHECK (stop_price >= 0),
  iceberg_qty     bigint   NOT NULL CHECK (iceberg_qty >= 0),
  -- Latest state.
  status          smallint NOT NULL CHECK (status BETWEEN 0 AND 7),
  expiry_reason   smallint NOT NULL DEFAULT 0 CHECK (expiry_reason BETWEEN 0 AND 8),
  working         boolean  NOT NULL,
  working_time_ms bigint,  -- when it went on the book (triggered stops: when triggered)
  executed_qty    bigint   NOT NULL DEFAULT 0 CHECK (executed_qty >= 0),
  cum_quote_qty   bigint   NOT NULL DEFAULT 0 CHECK (cum_quote_qty >= 0),
  update_time_ms  bigint   NOT NULL,
  seq             bigint   NOT NULL,  -- command that placed it
  last_seq        bigint   NOT NULL,  -- command of the latest state
  CHECK (qty = 0 OR executed_qty <= qty),
  CHECK (qty > 0 OR quote_qty > 0),
  CHECK (last_seq >= seq),
  PRIMARY KEY (order_id, time_ms)
) PARTITION BY RANGE (time_ms);
-- allOrders (by orderId, and by time window), GET order by clientOrderId.
CREATE INDEX orders_account_symbol_id_idx ON orders (account_id, symbol_id, order_id);
CREATE INDEX orders_account_symbol_time_idx ON orders (account_id, symbol_id, time_ms);
CREATE INDEX orders_account_client_id_idx ON orders (account_id, symbol_id, client_order_id);
-- The recorder's restart: which orders are still open.
CREATE INDEX orders_open_idx ON orders (order_id) WHERE status IN (0, 1, 7);

-- Every state change of every order, in order: the order's state history.
CREATE TABLE order_events (
  seq              bigint   NOT NULL,
  idx              integer  NOT NULL CHECK (idx >= 0),
  time_ms          bigint   NOT NULL,
  order_id         bigint   NOT NULL CHECK (order_id > 0),
  account_id       bigint   NOT NULL CHECK (account_id > 0),
  symbol_id        integer  NOT NULL,
  exec_type        smallint NOT NULL CHECK (exec_type BETWEEN 0 AND 7),
  status           smallint NOT NULL CHECK (status BETWEEN 0 AND 7),
  expiry_reason    smallint NOT NULL DEFAULT 0 CHECK (expiry_reason BETWEEN 0 AND 8),
  executed_qty     bigint   NOT NULL CHECK (executed_qty >= 0),
  cum_quote_qty    bigint   NOT NULL CHECK (cum_quote_qty >= 0),
  last_qty         bigint   NOT NULL DEFAULT 0 CHECK (last_qty >= 0),
  last_price       bigint   NOT NULL DEFAULT 0 CHECK (last_price >= 0),
  trade_id         bigint   NOT NULL DEFAULT 0 CHECK (trade_id >= 0),
  commission       bigint   NOT NULL DEFAULT 0 CHECK (commission >= 0),
  commission_asset integer,
  PRIMARY KEY (seq, idx, time_ms)
) PARTITION BY RANGE (time_ms);
CREATE INDEX order_events_order_idx ON order_events (order_id, seq, idx);

-- Every trade, once (historicalTrades, aggTrades).
CREATE TABLE trades (
  trade_id        bigint  NOT NULL CHECK (trade_id > 0),
  time_ms         bigint  NOT NULL,
  symbol_id       integer NOT NULL,
  price           bigint  NOT NULL CHECK (price > 0),
  qty             bigint  NOT NULL CHECK (qty > 0),
  quote_qty       bigint  NOT NULL CHECK (quote_qty >= 0),
  buyer_is_maker  boolean NOT NULL,
  buyer_order_id  bigint  NOT NULL CHECK (buyer_order_id > 0),
  seller_order_id bigint  NOT NULL CHECK (seller_order_id > 0),
  buyer_id        bigint  NOT NULL CHECK (buyer_id > 0),
  seller_id       bigint  NOT NULL CHECK (seller_id > 0),
  seq             bigint  NOT NULL,
  idx             integer NOT NULL,
  CHECK (buyer_order_id <> seller_order_id),
  PRIMARY KEY (trade_id, time_ms)
) PARTITION BY RANGE (time_ms);
CREATE INDEX trades_symbol_id_idx ON trades (symbol_id, trade_id);
CREATE INDEX trades_symbol_time_idx ON trades (symbol_id, time_ms);

-- Each side of each trade as its account sees it (myTrades): two rows per trade.
CREATE TABLE fills (
  account_id       bigint  NOT NULL CHECK (account_id > 0),
  symbol_id        integer NOT NULL,
  trade_id         bigint  NOT NULL CHECK (trade_id > 0),
  time_ms          bigint  NOT NULL,
  order_id         bigint  NOT NULL CHECK (order_id > 0),
  order_list_id    bigint  NOT NULL DEFAULT -1,
  is_buyer         boolean NOT NULL,
  is_maker         boolean NOT NULL,
  price            bigint  NOT NULL CHECK (price > 0),
  qty              bigint  NOT NULL CHECK (qty > 0),
  quote_qty        bigint  NOT NULL CHECK (quote_qty >= 0),
  commission       bigint  NOT NULL CHECK (commission >= 0),
  commission_asset integer NOT NULL,
  PRIMARY KEY (account_id, symbol_id, trade_id, is_buyer, time_ms)
) PARTITION BY RANGE (time_ms);
CREATE INDEX fills_account_symbol_time_idx ON fills (account_id, symbol_id, time_ms);
CREATE INDEX fills_order_idx ON fills (account_id, order_id);

-- Double-entry ledger: every balance movement, each entry naming its event. Per event and
-- asset the entries sum to zero. account_id > 0 is a user; the system accounts are
-- 0 = the outside world (the other side of deposits and withdrawals) and -1 = fee income.
-- bucket 0 = free, 1 = locked. kind: 1 deposit, 2 withdrawal, 3 lock (free -> locked, net over
-- the command; negative = unlock), 4 trade leg, 5 commission.
-- Trade legs and commissions move free balances; the command's net change of each locked
-- balance is one lock entry (a fill paid from an order's reserve shows as unlock + payment),
-- so the ledger's sums per (account, asset, bucket) are exactly the engine's free and locked.
CREATE TABLE ledger (
  seq        bigint   NOT NULL,
  idx        integer  NOT NULL CHECK (idx >= 0),  -- the event's index within its command
  leg        smallint NOT NULL CHECK (leg >= 0),  -- entry number within the event
  time_ms    bigint   NOT NULL,
  account_id bigint   NOT NULL CHECK (account_id >= -1),
  asset_id   integer  NOT NULL,
  bucket     smallint NOT NULL CHECK (bucket IN (0, 1)),
  kind       smallint NOT NULL CHECK (kind BETWEEN 1 AND 5),
  amount     bigint   NOT NULL CHECK (amount <> 0),
  CHECK (account_id > 0 OR bucket = 0),
  PRIMARY KEY (seq, idx, leg, time_ms)
) PARTITION BY RANGE (time_ms);
CREATE INDEX ledger_account_asset_idx ON ledger (account_id, asset_id);

-- Sums of ledger partitions that `spotex-admin archive` detached, per (account, asset, bucket):
-- live ledger + carried = every movement ever. Written in the archive's transaction.
CREATE TABLE ledger_carried (
  account_id bigint   NOT NULL CHECK (account_id >= -1),
  asset_id   integer  NOT NULL,
  bucket     smallint NOT NULL CHECK (bucket IN (0, 1)),
  amount     numeric  NOT NULL,
  PRIMARY KEY (account_id, asset_id, bucket)
);

-- Each user's balances as of the recorder's position (the engine's values after the command
-- that last changed them). Never negative: a state the engine cannot reach is refused here.
CREATE TABLE balances (
  account_id     bigint  NOT NULL CHECK (account_id > 0),
  asset_id       integer NOT NULL,
  free           bigint  NOT NULL CHECK (free >= 0),
  locked         bigint  NOT NULL CHECK (locked >= 0),
  seq            bigint  NOT NULL,  -- command of the latest change
  update_time_ms bigint  NOT NULL,
  PRIMARY KEY (account_id, asset_id)
);

-- One-minute bars from the trades (every higher interval is derived from them). Only minutes
-- with trades have a row.
CREATE TABLE klines_1m (
  symbol_id        integer NOT NULL,
  open_time_ms     bigint  NOT NULL CHECK (open_time_ms % 60000 = 0),
  open             bigint  NOT NULL CHECK (open > 0),
  high             bigint  NOT NULL,
  low              bigint  NOT NULL CHECK (low > 0),
  close            bigint  NOT NULL CHECK (close > 0),
  volume           bigint  NOT NULL CHECK (volume > 0),
  quote_volume     bigint  NOT NULL CHECK (quote_volume >= 0),
  trades           bigint  NOT NULL CHECK (trades > 0),
  taker_buy_volume bigint  NOT NULL CHECK (taker_buy_volume >= 0),
  taker_buy_quote  bigint  NOT NULL CHECK (taker_buy_quote >= 0),
  first_trade_id   bigint  NOT NULL,
  last_trade_id    bigint  NOT NULL,
  CHECK (low <= open AND low <= close AND high >= open AND high >= close),
  CHECK (first_trade_id <= last_trade_id),
  PRIMARY KEY (symbol_id, open_time_ms)
);

-- Matches that self-trade prevention stopped (myPreventedMatches).
CREATE TABLE prevented_matches (
  prevented_match_id bigint   NOT NULL CHECK (prevented_match_id > 0),
  time_ms            bigint   NOT NULL,
  account_id         bigint   NOT NULL CHECK (account_id > 0),
  symbol_id          integer  NOT NULL,
  stp_mode           smallint NOT NULL CHECK (stp_mode BETWEEN 2 AND 4),
  taker_order_id     bigint   NOT NULL CHECK (taker_order_id > 0),
  maker_order_id     bigint   NOT NULL CHECK (maker_order_id > 0),
  price              bigint   NOT NULL CHECK (price > 0),
  qty                bigint   NOT NULL CHECK (qty > 0),
  seq                bigint   NOT NULL,
  idx                integer  NOT NULL,
  PRIMARY KEY (prevented_match_id, time_ms)
) PARTITION BY RANGE (time_ms);
CREATE INDEX prevented_matches_account_idx ON prevented_matches (account_id, symbol_id,
                                                                 prevented_match_id);

-- Order lists (OCO) with their latest status. Small: not partitioned.
CREATE TABLE order_lists (
  order_list_id        bigint   PRIMARY KEY CHECK (order_list_id > 0),
  account_id           bigint   NOT NULL CHECK (account_id > 0),
  symbol_id            integer  NOT NULL,
  list_client_order_id text     NOT NULL CHECK (length(list_client_order_id) BETWEEN 1 AND 36),
  status               smallint NOT NULL CHECK (status BETWEEN 0 AND 2),
  order_id_1           bigint   NOT NULL CHECK (order_id_1 > 0),
  order_id_2           bigint   NOT NULL CHECK (order_id_2 > 0),
  time_ms              bigint   NOT NULL,
  update_time_ms       bigint   NOT NULL,
  CHECK (order_id_1 <> order_id_2)
);
CREATE INDEX order_lists_account_idx ON order_lists (account_id, order_list_id);
CREATE INDEX order_lists_account_time_idx ON order_lists (account_id, time_ms);

-- The partitioned tables, for history_ensure_month() and the archive.
CREATE TABLE history_partitioned_tables (name text PRIMARY KEY);
INSERT INTO history_partitioned_tables (name)
VALUES ('orders'), ('order_events'), ('trades'), ('fills'), ('ledger'), ('prevented_matches');

-- Creates (if missing) the partitions of every partitioned history table for the UTC month
-- that contains `month`, named <table>_yYYYYmMM. Returns the number created.
CREATE FUNCTION history_ensure_month(month date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  first_day date := date_trunc('month', month)::date;
  from_ms bigint := (extract(epoch FROM first_day::timestamp) * 1000)::bigint;
  to_ms bigint := (extract(epoch FROM (first_day + interval '1 month')::timestamp) * 1000)::bigint;
  suffix text := to_char(first_day, '"_y"YYYY"m"MM');
  t text;
  created integer := 0;
BEGIN
  FOR t IN SELECT name FROM history_partitioned_tables ORDER BY name LOOP
    IF to_regclass(t || suffix) IS NULL THEN
      EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%s) TO (%s)',
                     t || suffix, t, from_ms, to_ms);
      created := created + 1;
    END IF;
  END LOOP;
  RETURN created;
END $$;

-- Months whose partitions were archived (spotex-admin archive): where the files are and what
-- they hold, so an archived month can be found, verified and re-attached.
CREATE TABLE history_archives (
  month       date        NOT NULL,
  table_name  text        NOT NULL,
  path        text        NOT NULL,
  rows        bigint      NOT NULL CHECK (rows >= 0),
  sha256      text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  archived_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (month, table_name)
);

-- An integer amount in units of `scale` as exact decimal text ("1234500", 8 -> "0.01234500").
CREATE FUNCTION history_decimal(units numeric, scale integer) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT to_char(units / (10::numeric ^ scale), 'FM' || repeat('9', 30) ||
                 CASE WHEN scale > 0 THEN '0.' || repeat('0', scale) ELSE '0' END)
$$;
