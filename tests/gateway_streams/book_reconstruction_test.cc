// The local order book a client keeps by Binance's documented procedure (BINANCE_API.md §8,
// "How to manage a local order book correctly") equals the engine's book at the same update id,
// under a seeded random order flow of thousands of commands on two symbols, with clients that
// reconnect at random points, receive their messages late (so the REST snapshot is taken while
// diffs are still in flight), and follow one or both symbols on raw or combined connections.
//
// The procedure, per symbol:
//   1. subscribe to <symbol>@depth and buffer the events;
//   2. fetch GET /api/v3/depth?symbol=<SYMBOL>&limit=5000;
//   3. (if lastUpdateId < the first buffered U, fetch again — never needed here: the snapshot is
//      always taken after the subscription);
//   4. drop buffered events with u <= lastUpdateId;
//   5. the first event applied must have U <= lastUpdateId + 1 <= u;
//   6. apply each event in order: U must be the previous u + 1; quantity 0 removes the level.
// A violated rule fails the test (the seed is in the trace).
//
// Some clients turn on the opt-in checksum (docs/streams.md): each depthUpdate they apply carries
// "cs", which must equal the CRC32 of their own book's top 10 levels after applying it.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <zlib.h>

#include <deque>
#include <functional>
#include <map>
#include <set>
#include <utility>

#include "core/decimal.h"
#include "gateway/streams/history.h"
#include "market_sim.h"

namespace spotex::gateway::streams::test {
namespace {

using Bids = std::map<int64_t, int64_t, std::greater<>>;
using Asks = std::map<int64_t, int64_t>;

int64_t Units(std::string_view text) {
  auto v = core::ParseDecimal(text, 8);
  EXPECT_TRUE(v.has_value()) << text;
  return v.value_or(-1);
}

// One depthUpdate as a client reads it.
struct Diff {
  std::string symbol;
  int64_t first = 0, last = 0;
  std::vector<std::pair<int64_t, int64_t>> bids, asks;
  std::optional<int64_t> checksum;
};

Diff ParseDiff(std::string_view text, bool combined) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  simdjson::dom::element doc = parser.parse(padded).value();
  if (combined) {
    std::string_view stream = doc["stream"].get_string().value();
    EXPECT_TRUE(stream.ends_with("@depth")) << text;
    doc = doc["data"].value();
  }
  Diff d;
  EXPECT_EQ(std::string_view(doc["e"].get_string().value()), "depthUpdate");
  d.symbol = std::string(doc["s"].get_string().value());
  d.first = doc["U"].get_int64().value();
  d.last = doc["u"].get_int64().value();
  int64_t cs = 0;
  if (doc["cs"].get_int64().get(cs) == simdjson::SUCCESS) d.checksum = cs;
  for (auto [key, out] : {std::pair{"b", &d.bids}, std::pair{"a", &d.asks}}) {
    for (auto level : doc[key].get_array()) {
      out->emplace_back(Units(level.at(0).get_string().value()),
                        Units(level.at(1).get_string().value()));
    }
  }
  return d;
}

// One symbol's local book, kept by the procedure above.
struct LocalBook {
  bool synced = false;
  bool applied_any = false;  // since the snapshot
  int64_t last_update_id = 0;
  Bids bids;
  Asks asks;
  std::deque<Diff> buffer;
  size_t dropped = 0, applied = 0, checked = 0;

  // The documented checksum of this book, computed independently of the server's code:
  // "bid1Price:bid1Qty:ask1Price:ask1Qty:..." over the top 10 levels, CRC32.
  uint32_t Checksum() const {
    std::string text;
    auto add = [&](int64_t price, int64_t qty) {
      if (!text.empty()) text += ':';
      text += core::FormatDecimal(price, 8) + ":" + core::FormatDecimal(qty, 8);
    };
    auto bid = bids.begin();
    auto ask = asks.begin();
    for (int i = 0; i < 10; ++i) {
      if (bid != bids.end()) {
        add(bid->first, bid->second);
        ++bid;
      }
      if (ask != asks.end()) {
        add(ask->first, ask->second);
        ++ask;
      }
    }
    return static_cast<uint32_t>(
        crc32(0L, reinterpret_cast<const Bytef*>(text.data()), static_cast<uInt>(text.size())));
  }

  void Levels(const Diff& d) {
    for (const auto& [price, qty] : d.bids) {
      if (qty == 0) {
        bids.erase(price);
      } else {
        bids[price] = qty;
      }
    }
    for (const auto& [price, qty] : d.asks) {
      if (qty == 0) {
        asks.erase(price);
      } else {
        asks[price] = qty;
      }
    }
  }

  // Steps 4-6 for one event, once the snapshot is loaded.
  void Apply(const Diff& d) {
    ASSERT_LE(d.first, d.last);
    if (d.last <= last_update_id) {
      ++dropped;
      return;
    }
    if (!applied_any) {
      ASSERT_LE(d.first, last_update_id + 1) << d.symbol << ": first event after the snapshot";
    } else {
      ASSERT_EQ(d.first, last_update_id + 1) << d.symbol << ": gap or overlap";
    }
    Levels(d);
    if (d.checksum) {
      ASSERT_EQ(*d.checksum, static_cast<int64_t>(Checksum())) << d.symbol << " u=" << d.last;
      ++checked;
    }
    last_update_id = d.last;
    applied_any = true;
    ++applied;
  }

  void Snapshot(const std::string& json) {
    simdjson::dom::parser parser;
    simdjson::padded_string padded(json);
    simdjson::dom::element doc = parser.parse(padded).value();
    last_update_id = doc["lastUpdateId"].get_int64().value();
    bids.clear();
    asks.clear();
    for (auto l : doc["bids"].get_array()) {
      bids[Units(l.at(0).get_string().value())] = Units(l.at(1).get_string().value());
    }
    for (auto l : doc["asks"].get_array()) {
      asks[Units(l.at(0).get_string().value())] = Units(l.at(1).get_string().value());
    }
    ASSERT_LT(bids.size(), 5000u) << "the book outgrew the snapshot's limit";
    ASSERT_LT(asks.size(), 5000u);
    // Step 3 (the snapshot predates the first buffered event) cannot happen in process.
    if (!buffer.empty()) {
      ASSERT_GE(last_update_id, buffer.front().first);
    }
    synced = true;
    applied_any = false;
    while (!buffer.empty()) {
      Apply(buffer.front());
      buffer.pop_front();
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
};

// A WebSocket client: subscribed to @depth of some symbols, raw or combined; its messages travel
// through an in-flight queue that delivers them late, in order.
struct Client {
  std::vector<std::string> symbols;
  bool combined = false;
  bool checksum = false;  // receives the checksum variant
  bool connected = false;
  size_t snapshot_at = 0;  // the step at which it fetches the REST snapshot
  std::deque<std::string> in_flight;
  std::map<std::string, LocalBook> books;
  size_t reconnects = 0;
  size_t dropped = 0, applied = 0, checked = 0;  // over every connection so far

  bool Follows(const std::string& symbol) const {
    return std::find(symbols.begin(), symbols.end(), symbol) != symbols.end();
  }

  void Connect(size_t step, Rng& rng) {
    connected = true;
    in_flight.clear();
    Count();
    books.clear();
    for (const auto& s : symbols) books[s];
    snapshot_at = step + static_cast<size_t>(rng.Below(40));
  }

  // Moves the books' counters into the client's.
  void Count() {
    for (auto& [s, b] : books) {
      dropped += std::exchange(b.dropped, 0);
      applied += std::exchange(b.applied, 0);
      checked += std::exchange(b.checked, 0);
    }
  }

  void Receive(const std::string& text) {
    Diff d = ParseDiff(text, combined);
    ASSERT_TRUE(Follows(d.symbol)) << text;
    LocalBook& b = books[d.symbol];
    if (!b.synced) {
      ASSERT_LT(b.buffer.size(), 100'000u);
      b.buffer.push_back(std::move(d));
    } else {
      b.Apply(d);
    }
  }

  // Beyond Binance: instead of a fresh start, RESUME each synced symbol from its last u + 1 out
  // of the hub's history (replayed as StreamHub::Resume sends it); a symbol the history cannot
  // serve starts over. Returns the number of symbols resumed.
  size_t Resume(size_t step, Rng& rng, const StreamHistory& history) {
    std::map<std::string, LocalBook> kept = std::move(books);
    Connect(step, rng);
    size_t resumed = 0;
    for (auto& [symbol, book] : kept) {
      if (!book.synced) continue;
      const StreamKey key{StreamKind::kDepth, symbol, ""};
      auto entries = history.Since(key, book.last_update_id + 1);
      if (!entries) continue;
      for (const auto* e : *entries) {
        std::string raw = checksum && e->checksum ? WithChecksum(*e->raw, *e->checksum) : *e->raw;
        in_flight.push_back(combined ? Combined(key, raw) : raw);
      }
      book.applied_any = false;  // the first replayed event may straddle, as after a snapshot
      books[symbol] = std::move(book);
      ++resumed;
    }
    return resumed;
  }

  void Deliver(size_t n) {
    while (n-- > 0 && !in_flight.empty()) {
      std::string text = std::move(in_flight.front());
      in_flight.pop_front();
      Receive(text);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }

  void FetchSnapshots(MarketSim& sim) {
    for (auto& [symbol, book] : books) {
      if (book.synced) continue;
      http::Response r = sim.RestDepth(symbol);
      ASSERT_EQ(r.status, 200) << r.body;
      book.Snapshot(r.body);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
};

// The client's book equals the engine's whole book at the same update id.
void ExpectSameAsEngine(const Client& c, size_t client, MarketSim& sim) {
  for (const auto& [symbol, book] : c.books) {
    const auto id = *sim.engine().FindSymbol(symbol);
    auto engine_book = sim.engine().Book(id, 1'000'000);
    ASSERT_TRUE(engine_book);
    ASSERT_TRUE(book.synced);
    ASSERT_EQ(book.last_update_id, static_cast<int64_t>(engine_book->last_update_id))
        << "client " << client << " " << symbol;
    Bids bids;
    Asks asks;
    for (const auto& l : engine_book->bids) bids[l.price.v] = l.qty.v;
    for (const auto& l : engine_book->asks) asks[l.price.v] = l.qty.v;
    ASSERT_EQ(bids.size(), engine_book->bids.size());
    EXPECT_EQ(book.bids, bids) << "client " << client << " " << symbol;
    EXPECT_EQ(book.asks, asks) << "client " << client << " " << symbol;
  }
}

class BookReconstruction : public ::testing::TestWithParam<uint64_t> {};

TEST_P(BookReconstruction, LocalBooksEqualTheEngineBookUnderRandomFlowAndReconnects) {
  const uint64_t seed = GetParam();
  SCOPED_TRACE("seed " + std::to_string(seed));
  Rng rng(seed);
  MarketSim sim;
  // Clients 0-1 follow one symbol each (raw), 2-3 both on one raw connection (routed by "s"),
  // 4-5 both on a combined connection; 3 and 5 with checksums.
  std::vector<Client> clients(6);
  clients[0].symbols = {"BTCUSDT"};
  clients[1].symbols = {"ETHUSDT"};
  for (size_t i = 2; i < clients.size(); ++i) {
    clients[i].symbols = {"BTCUSDT", "ETHUSDT"};
    clients[i].combined = i >= 4;
    clients[i].checksum = i % 2 == 1;
  }
  for (auto& c : clients) c.Connect(0, rng);
  // The hub's resume history, small enough that some resumes come too late.
  StreamHistory history(StreamHistory::Limits{150, 1 << 20, 60'000});
  size_t resumed = 0, resume_attempts = 0;

  constexpr size_t kSteps = 6000, kCheckpointEvery = 500;
  size_t diffs = 0, checkpoints = 0;
  for (size_t step = 1; step <= kSteps; ++step) {
    for (const StreamMessage& m : sim.Step(rng)) {
      if (StreamHistory::Keeps(m.key)) history.Record(m, std::make_shared<const std::string>(m.raw));
      if (m.key.kind != StreamKind::kDepth || !m.key.param.empty()) continue;
      ++diffs;
      for (auto& c : clients) {
        if (!c.connected || !c.Follows(m.key.symbol)) continue;
        if (c.checksum) {  // as StreamHub::Publish encodes the variant
          ASSERT_TRUE(m.checksum.has_value());
          std::string raw = WithChecksum(m.raw, *m.checksum);
          c.in_flight.push_back(c.combined ? Combined(m.key, raw) : raw);
        } else {
          c.in_flight.push_back(c.combined ? m.combined : m.raw);
        }
      }
    }
    for (size_t i = 0; i < clients.size(); ++i) {
      Client& c = clients[i];
      SCOPED_TRACE("client " + std::to_string(i) + " step " + std::to_string(step));
      if (!c.connected) {
        if (rng.Below(5) != 0) continue;
        if (rng.Below(2) == 0) {
          c.Connect(step, rng);
        } else {
          ++resume_attempts;
          resumed += c.Resume(step, rng, history);
        }
        continue;
      }
      // Late, in-order delivery: sometimes nothing, sometimes a burst.
      c.Deliver(static_cast<size_t>(rng.Below(4)));
      ASSERT_FALSE(HasFatalFailure());
      if (step >= c.snapshot_at) c.FetchSnapshots(sim);
      ASSERT_FALSE(HasFatalFailure());
      if (rng.Below(400) == 0) {  // the connection drops: book, buffer and in-flight are lost
        c.connected = false;
        ++c.reconnects;
      }
    }
    if (step % kCheckpointEvery == 0 || step == kSteps) {
      ++checkpoints;
      for (size_t i = 0; i < clients.size(); ++i) {
        Client& c = clients[i];
        if (!c.connected) c.Connect(step, rng);
        c.Deliver(c.in_flight.size());
        c.FetchSnapshots(sim);
        ASSERT_FALSE(HasFatalFailure());
        ExpectSameAsEngine(c, i, sim);
        ASSERT_FALSE(HasFatalFailure()) << "checkpoint at step " << step;
      }
    }
  }
  // The flow was busy and varied, and the procedure's every branch was taken.
  EXPECT_GT(sim.accepted(), kSteps / 2);
  EXPECT_GT(diffs, kSteps / 2);
  EXPECT_EQ(checkpoints, kSteps / kCheckpointEvery);
  size_t dropped = 0, applied = 0, reconnects = 0, checked = 0;
  for (auto& c : clients) {
    c.Count();
    reconnects += c.reconnects;
    dropped += c.dropped;
    applied += c.applied;
    checked += c.checked;
  }
  RecordProperty("diffs", std::to_string(diffs));
  RecordProperty("applied", std::to_string(applied));
  RecordProperty("dropped", std::to_string(dropped));
  RecordProperty("reconnects", std::to_string(reconnects));
  RecordProperty("checked", std::to_string(checked));
  RecordProperty("resumed", std::to_string(resumed));
  RecordProperty("resume_attempts", std::to_string(resume_attempts));
  EXPECT_GT(dropped, 0u);
  EXPECT_GT(applied, diffs);
  EXPECT_GT(checked, diffs / 2);
  EXPECT_GT(reconnects, 10u);
  EXPECT_GT(resumed, 3u);
  EXPECT_GT(resume_attempts * 2, resumed);  // some came too late for the history
  for (int s = 0; s < kSymbols; ++s) {
    auto b = sim.engine().Book(static_cast<engine::SymbolId>(s), 1'000'000);
    EXPECT_GT(b->bids.size() + b->asks.size(), 20u) << kSymbolNames[s];
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, BookReconstruction, ::testing::Values(1, 2, 3));

}  // namespace
}  // namespace spotex::gateway::streams::test
