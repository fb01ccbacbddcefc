// A random command stream for the service tests, against the default markets (etc/markets.toml:
// assets BTC=0 ETH=1 BNB=2 USDT=3, scale 8; BTCUSDT=0 with tick 0.01 and step 0.00001).
// Mostly orders that rest, cross and trade, with cancels, cancel-alls, transfers and, rarely,
// bytes that are not a command at all. Returns encoded command bytes.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "engine/command.h"
#include "proto/codec.h"

namespace spotex::testing {

class Workload {
 public:
  static constexpr engine::AccountId kAccounts = 40;
  static constexpr int64_t kTick = 1'000'000;  // 0.01 USDT at scale 8
  static constexpr int64_t kStep = 1'000;      // 0.00001 BTC at scale 8

  explicit Workload(uint64_t seed, double malformed_rate = 0.005)
      : rng_(seed), malformed_rate_(malformed_rate) {}

  // Opens and funds every account.
  std::vector<std::vector<std::byte>> Prologue() {
    std::vector<std::vector<std::byte>> out;
    for (engine::AccountId a = 1; a <= kAccounts; ++a) {
      out.push_back(Encode(engine::OpenAccount{a}));
      out.push_back(Encode(engine::Deposit{a, 0, engine::Amount{1000'00000000}}));
      out.push_back(Encode(engine::Deposit{a, 3, engine::Amount{100'000'000'00000000}}));
    }
    return out;
  }

  std::vector<std::byte> Next() {
    double p = Uniform();
    if (p < malformed_rate_) return Garbage();
    p = Uniform();
    engine::AccountId a = 1 + rng_() % kAccounts;
    if (p < 0.62) return Encode(engine::PlaceOrder{Order(a, engine::OrderType::kLimit)});
    if (p < 0.70) return Encode(engine::PlaceOrder{Order(a, engine::OrderType::kMarket)});
    if (p < 0.93 && !cids_.empty()) {
      engine::CancelOrder c;
      size_t i = rng_() % cids_.size();
      c.ref.account = cids_[i].first;
      c.ref.symbol = 0;
      (void)c.ref.orig_client_order_id.Assign(cids_[i].second);
      cids_[i] = cids_.back();
      cids_.pop_back();
      return Encode(c);
    }
    if (p < 0.95) return Encode(engine::CancelAll{a, 0});
    if (p < 0.975) return Encode(engine::Deposit{a, 3, engine::Amount{1000'00000000}});
    return Encode(engine::Withdraw{a, 3, engine::Amount{500'00000000}});
  }

 private:
  double Uniform() { return std::uniform_real_distribution<double>(0, 1)(rng_); }

  static std::vector<std::byte> Encode(engine::CommandBody body) {
    return proto::EncodeCommand(engine::Command{0, 0, body});
  }

  engine::NewOrder Order(engine::AccountId a, engine::OrderType type) {
    engine::NewOrder o;
    o.account = a;
    o.symbol = 0;
    o.side = rng_() % 2 == 0 ? engine::Side::kBuy : engine::Side::kSell;
    o.type = type;
    o.qty = engine::Qty{kStep * static_cast<int64_t>(10 + rng_() % 500)};
    if (type == engine::OrderType::kLimit) {
      o.tif = rng_() % 10 == 0 ? engine::TimeInForce::kIoc : engine::TimeInForce::kGtc;
      // 50,000 USDT +- 0.40 around a slowly moving mid.
      mid_ticks_ += static_cast<int64_t>(rng_() % 3) - 1;
      int64_t off = static_cast<int64_t>(rng_() % 41) - 20;
      o.price = engine::Price{(mid_ticks_ + off) * kTick};
      std::string cid = "w" + std::to_string(++cid_n_);
      (void)o.client_order_id.Assign(cid);
      if (o.tif == engine::TimeInForce::kGtc) cids_.emplace_back(a, cid);
    }
    return o;
  }

  std::vector<std::byte> Garbage() {
    std::vector<std::byte> b(rng_() % 64);
    for (auto& x : b) x = static_cast<std::byte>(rng_());
    if (!b.empty() && rng_() % 2 == 0) {
      // Sometimes a valid header with a bad body: exercises the decoder past the magic.
      const char hdr[] = {'S', 'P', 'X', 'C', 1, 0, 1, 0};
      for (size_t i = 0; i < b.size() && i < 8; ++i) b[i] = static_cast<std::byte>(hdr[i]);
    }
    return b;
  }

  std::mt19937_64 rng_;
  double malformed_rate_;
  int64_t mid_ticks_ = 5'000'000;  // 50,000.00 USDT
  uint64_t cid_n_ = 0;
  std::vector<std::pair<engine::AccountId, std::string>> cids_;
};

}  // namespace spotex::testing
