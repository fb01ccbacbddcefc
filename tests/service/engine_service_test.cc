// Integration tests of spotex-engine against a real nats-server: the command round trip, the
// event stream, malformed bytes, de-duplication, queries, snapshots and restart, and the
// journal's torn-tail repair and mid-file corruption refusal.
#include "service/engine_service.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "bus/subjects.h"
#include "engine/event.h"
#include "harness.h"
#include "proto/codec.h"
#include "proto/envelope.h"
#include "service/command_client.h"

namespace spotex::testing {
namespace {

namespace fs = std::filesystem;
using engine::Amount;
using engine::Price;
using engine::Qty;

std::string Markets() { return std::string(SPOTEX_SOURCE_DIR) + "/etc/markets.toml"; }

std::vector<std::byte> Encode(engine::CommandBody body) {
  return proto::EncodeCommand(engine::Command{0, 0, body});
}

class EngineServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nats_ = std::make_unique<NatsServer>(dir_.path());
    ASSERT_TRUE(nats_->ok()) << ReadFile(dir_.path() + "/nats.log");
    engine_ = std::make_unique<EngineProcess>(*nats_, dir_.path() + "/engine",
                                              dir_.path() + "/engine.log",
                                              EngineOptions{Markets(), 200000, 300});
    engine_->Start();
    auto client = service::CommandClient::Connect(nats_->config(), 0);
    ASSERT_TRUE(client) << client.error().message;
    client_ = std::move(*client);
    ASSERT_TRUE(WaitForLogSeq(9)) << Log();  // the markets: 4 assets, 4 symbols, fees
  }

  std::string Log() { return ReadFile(engine_->log_path()); }

  std::string Status() {
    auto r = client_->Query("status", 1000);
    return r ? *r : std::string();
  }

  bool WaitForLogSeq(uint64_t seq, int64_t timeout_ms = 15000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      std::string s = Status();
      if (!s.empty() && std::stoull(JsonField(s, "logSeq")) >= seq) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  proto::Envelope Call(engine::CommandBody body, const std::string& id = {}) {
    auto reply = client_->Call(Encode(body), id, 10000);
    EXPECT_TRUE(reply) << reply.error().message << "\n" << Log();
    if (!reply) return *proto::Envelope::Parse({});
    auto env = proto::Envelope::Parse(*reply);
    EXPECT_TRUE(env);
    return std::move(*env);
  }

  void Fund(engine::AccountId a) {
    ASSERT_EQ(Call(engine::OpenAccount{a}).header().code, engine::RejectCode::kNone);
    ASSERT_EQ(Call(engine::Deposit{a, 0, Amount{10'00000000}}).header().code,
              engine::RejectCode::kNone);
    ASSERT_EQ(Call(engine::Deposit{a, 3, Amount{1'000'000'00000000}}).header().code,
              engine::RejectCode::kNone);
  }

  engine::NewOrder Limit(engine::AccountId a, engine::Side side, int64_t price_cents,
                         int64_t qty_steps, const char* cid) {
    engine::NewOrder o;
    o.account = a;
    o.symbol = 0;
    o.side = side;
    o.type = engine::OrderType::kLimit;
    o.tif = engine::TimeInForce::kGtc;
    o.price = Price{price_cents * 1'000'000};
    o.qty = Qty{qty_steps * 1'000};
    (void)o.client_order_id.Assign(cid);
    return o;
  }

  TempDir dir_;
  std::unique_ptr<NatsServer> nats_;
  std::unique_ptr<EngineProcess> engine_;
  std::unique_ptr<service::CommandClient> client_;
};

TEST_F(EngineServiceTest, MarketsAreBootstrappedThroughTheLog) {
  auto symbols = client_->Query("symbols", 1000);
  ASSERT_TRUE(symbols);
  EXPECT_NE(symbols->find("\"BTCUSDT\""), std::string::npos);
  EXPECT_NE(symbols->find("\"ETHBTC\""), std::string::npos);
  // They are commands 1..9 of the stream, each with an envelope on the event stream.
  auto cmds = ReadStream(client_->nats(), bus::CommandStream(0), bus::CommandSubject(0), 9);
  ASSERT_EQ(cmds.size(), 9u);
  EXPECT_EQ(cmds[0].msg_id, "bootstrap:0");
  auto evts = ReadEventEnvelopes(client_->nats(), 0);
  ASSERT_TRUE(evts.ok) << evts.error;
  ASSERT_EQ(evts.envelopes.size(), 9u);
  for (uint64_t i = 0; i < 9; ++i) EXPECT_EQ(evts.envelopes[i].seq, i + 1);
}

TEST_F(EngineServiceTest, OrderRoundTripAnswersAfterDurabilityAndPublishesEvents) {
  Fund(1);
  Fund(2);
  auto sell = Call(engine::PlaceOrder{Limit(1, engine::Side::kSell, 5000000, 100, "s1")});
  ASSERT_EQ(sell.header().code, engine::RejectCode::kNone);
  EXPECT_GT(sell.header().order_id, 0);
  auto buy = Call(engine::PlaceOrder{Limit(2, engine::Side::kBuy, 5000000, 40, "b1")});
  ASSERT_EQ(buy.header().code, engine::RejectCode::kNone);
  int trades = 0;
  for (auto r = buy.reader(); !r.Done(); r.Next()) {
    if (const auto* t = r.If<engine::Trade>()) {
      ++trades;
      EXPECT_EQ(t->qty.v, 40'000);
      EXPECT_EQ(t->price.v, 5'000'000'000'000);
    }
  }
  EXPECT_EQ(trades, 1);
  // The same envelope is on the event stream under the command's seq.
  uint64_t seq = buy.header().seq;
  auto evts = ReadEventEnvelopes(client_->nats(), 0);
  ASSERT_TRUE(evts.ok) << evts.error;
  ASSERT_EQ(evts.envelopes.size(), seq);
  const auto& last = evts.envelopes.back();
  EXPECT_EQ(last.seq, seq);
  auto env = proto::Envelope::Parse(
      {reinterpret_cast<const std::byte*>(last.bytes.data()), last.bytes.size()});
  ASSERT_TRUE(env);
  EXPECT_EQ(env->header().seq, seq);
  EXPECT_EQ(env->header().event_count, buy.header().event_count);
  // The journal holds it: status says so.
  EXPECT_EQ(JsonField(Status(), "journalSeq"), std::to_string(seq));
  // Live queries see the resting remainder.
  auto book = client_->Query("book BTCUSDT 5", 1000);
  ASSERT_TRUE(book);
  EXPECT_NE(book->find("[\"50000.00000000\",\"0.00060000\"]"), std::string::npos) << *book;
  auto open = client_->Query("open_orders 1 BTCUSDT", 1000);
  ASSERT_TRUE(open);
  EXPECT_NE(open->find("\"clientOrderId\":\"s1\""), std::string::npos) << *open;
  EXPECT_NE(open->find("\"status\":\"PARTIALLY_FILLED\""), std::string::npos) << *open;
  auto bal = client_->Query("balances 2", 1000);
  ASSERT_TRUE(bal);
  EXPECT_NE(bal->find("\"asset\":\"BTC\""), std::string::npos) << *bal;
}

TEST_F(EngineServiceTest, RejectionsCarryTheBinanceCodeAndChangeNothing) {
  Fund(1);
  std::string before = JsonField(Status(), "stateHash");
  auto r = Call(engine::PlaceOrder{Limit(1, engine::Side::kBuy, 5000000, 10000000, "big")});
  EXPECT_EQ(r.header().code, engine::RejectCode::kInsufficientBalance);
  EXPECT_EQ(engine::ToBinance(r.header().code).code, -2010);
  EXPECT_EQ(JsonField(Status(), "stateHash"), before);
}

TEST_F(EngineServiceTest, MalformedBytesGiveARejectionEnvelopeAndTheEngineCarriesOn) {
  const std::byte junk[] = {std::byte{'x'}, std::byte{'y'}, std::byte{'z'}};
  auto reply = client_->Call(junk, {}, 10000);
  ASSERT_TRUE(reply) << reply.error().message;
  auto env = proto::Envelope::Parse(*reply);
  ASSERT_TRUE(env);
  EXPECT_TRUE(env->header().malformed);
  EXPECT_EQ(env->header().decode_error, proto::DecodeError::kTruncated);
  EXPECT_EQ(env->header().code, engine::RejectCode::kInvalidParameter);
  ASSERT_EQ(env->header().event_count, 1u);
  auto rd = env->reader();
  ASSERT_NE(rd.If<engine::CommandRejected>(), nullptr);
  // An unknown type tag behind a valid header is malformed too.
  const std::byte unknown_type[] = {std::byte{'S'}, std::byte{'P'}, std::byte{'X'}, std::byte{'C'},
                                    std::byte{1},   std::byte{0},   std::byte{99},  std::byte{0}};
  auto reply2 = client_->Call(unknown_type, {}, 10000);
  ASSERT_TRUE(reply2);
  auto env2 = proto::Envelope::Parse(*reply2);
  ASSERT_TRUE(env2);
  EXPECT_EQ(env2->header().decode_error, proto::DecodeError::kUnknownType);
  // The engine still works.
  EXPECT_EQ(Call(engine::OpenAccount{5}).header().code, engine::RejectCode::kNone);
  EXPECT_EQ(JsonField(Status(), "malformed"), "2");
}

TEST_F(EngineServiceTest, RetriedPublishWithTheSameIdIsAppliedOnce) {
  auto first = Call(engine::OpenAccount{9}, "client-req-1");
  ASSERT_EQ(first.header().code, engine::RejectCode::kNone);
  uint64_t seq = first.header().seq;
  // A retry (same Nats-Msg-Id) is dropped by the stream: no new command, no new answer.
  auto retry = client_->nats().PublishSync(
      bus::CommandSubject(0),
      std::string_view(reinterpret_cast<const char*>(Encode(engine::OpenAccount{9}).data()),
                       Encode(engine::OpenAccount{9}).size()),
      "client-req-1");
  ASSERT_TRUE(retry) << retry.error().message;
  EXPECT_EQ(*retry, seq);  // the ack names the original's seq
  auto next = Call(engine::OpenAccount{10});
  EXPECT_EQ(next.header().seq, seq + 1);
}

TEST_F(EngineServiceTest, QueriesRejectBadInputClearly) {
  for (const char* q : {"", "nonsense", "balances x", "balances 424242", "book NOPE",
                        "book BTCUSDT 0", "order 1 BTCUSDT -4", "open_orders 1 NOPE"}) {
    auto r = client_->Query(q, 1000);
    ASSERT_TRUE(r) << q;
    EXPECT_TRUE(r->starts_with("{\"error\":")) << q << " -> " << *r;
  }
}

TEST_F(EngineServiceTest, SnapshotPlusJournalReproducesTheStateAfterACrash) {
  Fund(1);
  Fund(2);
  for (int i = 0; i < 20; ++i) {
    Call(engine::PlaceOrder{Limit(1 + i % 2, i % 2 ? engine::Side::kBuy : engine::Side::kSell,
                                  5000000 + i % 5, 10, ("o" + std::to_string(i)).c_str())});
  }
  auto snap = client_->Query("snapshot", 1000);
  ASSERT_TRUE(snap);
  std::string snap_seq = JsonField(*snap, "logSeq");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (JsonField(Status(), "snapshotSeq") != snap_seq &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(JsonField(Status(), "snapshotSeq"), snap_seq);
  ASSERT_TRUE(fs::exists(service::SnapshotPath(engine_->data_dir(), std::stoull(snap_seq))));
  for (int i = 0; i < 10; ++i) {
    Call(engine::PlaceOrder{
        Limit(2, engine::Side::kBuy, 5000003, 7, ("p" + std::to_string(i)).c_str())});
  }
  std::string before = Status();
  engine_->Kill(SIGKILL);
  engine_->Start();
  ASSERT_TRUE(WaitForLogSeq(std::stoull(JsonField(before, "logSeq")))) << Log();
  std::string after = Status();
  EXPECT_EQ(JsonField(after, "stateHash"), JsonField(before, "stateHash"));
  EXPECT_NE(Log().find("loaded snapshot"), std::string::npos) << Log();
  EXPECT_NE(Log().find("replayed 10 journal records"), std::string::npos) << Log();
  // The restarted engine keeps going from where the log is.
  EXPECT_EQ(Call(engine::OpenAccount{77}).header().seq,
            std::stoull(JsonField(before, "logSeq")) + 1);
}

TEST_F(EngineServiceTest, TornJournalTailIsCutAndTheStreamRefillsIt) {
  Fund(1);
  std::string before = Status();
  ASSERT_EQ(engine_->Kill(SIGTERM) & 0x7f, 0);  // clean exit
  // A crash in the middle of writing a batch: half a record at the end.
  std::string journal = engine_->data_dir() + "/journal.wal";
  auto size = fs::file_size(journal);
  std::string tail = ReadFile(journal).substr(size - 30);
  fs::resize_file(journal, size - 30);  // the last record, torn
  engine_->Start();
  ASSERT_TRUE(WaitForLogSeq(std::stoull(JsonField(before, "logSeq")))) << Log();
  EXPECT_EQ(JsonField(Status(), "stateHash"), JsonField(before, "stateHash"));
  EXPECT_NE(Log().find("cut a torn tail"), std::string::npos) << Log();
}

TEST_F(EngineServiceTest, EnvelopesMissingFromTheEventStreamAreRepublishedFromTheJournal) {
  // A crash between the journal's fsync and the publish leaves the event stream behind the
  // journal. Simulate it: stop the engine, delete the last event batches, restart.
  Fund(1);
  Fund(2);
  auto before = ReadEventEnvelopes(client_->nats(), 0);
  ASSERT_TRUE(before.ok) << before.error;
  ASSERT_GE(before.messages, 2u);
  engine_->Kill(SIGTERM);
  auto last = client_->nats().LastSeq(bus::EventStream(0));
  ASSERT_TRUE(last);
  for (uint64_t s : {*last, *last - 1}) {
    jsErrCode err = static_cast<jsErrCode>(0);
    ASSERT_EQ(js_DeleteMsg(client_->nats().js(), bus::EventStream(0).c_str(), s, nullptr, &err),
              NATS_OK);
  }
  engine_->Start();
  ASSERT_TRUE(WaitForLogSeq(before.envelopes.back().seq)) << Log();
  EXPECT_NE(Log().find("envelopes republished"), std::string::npos) << Log();
  // Every envelope is back, byte for byte, each exactly once.
  auto after = ReadEventEnvelopes(client_->nats(), 0);
  ASSERT_TRUE(after.ok) << after.error;
  ASSERT_EQ(after.envelopes.size(), before.envelopes.size());
  for (size_t i = 0; i < after.envelopes.size(); ++i) {
    EXPECT_EQ(after.envelopes[i].seq, before.envelopes[i].seq);
    EXPECT_EQ(after.envelopes[i].bytes, before.envelopes[i].bytes);
  }
}

TEST_F(EngineServiceTest, MidFileJournalCorruptionRefusesToStartNamingTheOffset) {
  Fund(1);
  Fund(2);
  engine_->Kill(SIGTERM);
  std::string journal = engine_->data_dir() + "/journal.wal";
  {
    std::fstream f(journal, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);  // inside an early record: valid records follow
    char c = 0x5a;
    f.write(&c, 1);
  }
  engine_->Start();
  int status = engine_->WaitExit(15000);
  ASSERT_NE(status, -1) << "the engine started on a corrupt journal\n" << Log();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0);
  std::string log = Log();
  EXPECT_NE(log.find(journal), std::string::npos) << log;
  EXPECT_NE(log.find("offset"), std::string::npos) << log;
}

}  // namespace
}  // namespace spotex::testing
