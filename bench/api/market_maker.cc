#include "market_maker.h"

#include <algorithm>
#include <charconv>

namespace spotex::bench {

MarketMaker::MarketMaker(ApiUser user, MakerOptions options, std::string host,
                         std::string id_prefix)
    : user_(std::move(user)),
      options_(std::move(options)),
      host_(std::move(host)),
      prefix_(std::move(id_prefix)) {
  options_.levels = std::clamp(options_.levels, 1, kMakerLevelsMax);
  options_.refresh_ms = std::clamp<int64_t>(options_.refresh_ms, 1, 60'000);
  resting_[0].assign(static_cast<size_t>(options_.levels), false);
  resting_[1].assign(static_cast<size_t>(options_.levels), false);
}

int MarketMaker::Resting() const {
  int n = 0;
  for (const auto& side : resting_) {
    n += static_cast<int>(std::count(side.begin(), side.end(), true));
  }
  return n;
}

MakerRequest MarketMaker::Next(int64_t wall_ms, std::string& out) {
  out.clear();
  in_flight_ = true;
  std::string tail = "timestamp=" + std::to_string(wall_ms) +
                     "&recvWindow=" + std::to_string(options_.recv_window_ms);
  if (to_place_.empty()) {
    syncing_ = true;
    AppendSignedRequest("GET", "/api/v3/openOrders", "symbol=" + options_.symbol + "&" + tail,
                        user_, host_, out);
    return MakerRequest::kSync;
  }
  syncing_ = false;
  auto [side, level] = to_place_.back();
  BuildOrder(side, level, wall_ms, out);
  return MakerRequest::kPlace;
}

void MarketMaker::BuildOrder(int side, int level, int64_t wall_ms, std::string& out) {
  int64_t offset = options_.first_offset_ticks + options_.step_ticks * level;
  int64_t price = side == 0 ? options_.mid_price_ticks - offset : options_.mid_price_ticks + offset;
  std::string params = "symbol=" + options_.symbol;
  params.append(side == 0 ? "&side=BUY" : "&side=SELL");
  params.append("&type=LIMIT&timeInForce=GTC&quantity=")
      .append(FormatFixed(options_.qty_steps, options_.qty_decimals));
  params.append("&price=").append(FormatFixed(price, options_.price_decimals));
  params.append("&newClientOrderId=").append(prefix_).append(side == 0 ? "-B" : "-S");
  params.append(std::to_string(level)).append("-").append(std::to_string(++seq_));
  params.append("&timestamp=").append(std::to_string(wall_ms));
  params.append("&recvWindow=").append(std::to_string(options_.recv_window_ms));
  AppendSignedRequest("POST", "/api/v3/order", params, user_, host_, out);
}

void MarketMaker::EndCycle(int64_t now_ms) {
  to_place_.clear();
  wake_at_ms_ = now_ms + options_.refresh_ms;
  ++cycles_;
}

bool MarketMaker::OnResponse(int64_t now_ms, int status, std::string_view body,
                             std::string& error_key) {
  in_flight_ = false;
  bool ok = status >= 200 && status < 300;
  if (!ok) {
    std::string code = ErrorCode(body);
    error_key = std::string(syncing_ ? "maker-openOrders:" : "maker-order:") +
                std::to_string(status) + (code.empty() ? "" : "/" + code);
  }
  if (syncing_) {
    if (!ok) {
      EndCycle(now_ms);
      return false;
    }
    // Our quotes in the answer: "clientOrderId":"<prefix>-<B|S><level>-<seq>".
    for (auto& side : resting_) {
      side.assign(side.size(), false);
    }
    const std::string needle = "\"clientOrderId\":\"" + prefix_ + "-";
    for (size_t at = body.find(needle); at != std::string_view::npos;
         at = body.find(needle, at + needle.size())) {
      size_t p = at + needle.size();
      if (p + 1 >= body.size() || (body[p] != 'B' && body[p] != 'S')) {
        continue;
      }
      int side = body[p] == 'B' ? 0 : 1;
      int level = -1;
      auto [end, ec] = std::from_chars(body.data() + p + 1, body.data() + body.size(), level);
      if (ec == std::errc() && level >= 0 && level < options_.levels && end < body.data() + body.size() &&
          *end == '-') {
        resting_[side][static_cast<size_t>(level)] = true;
      }
    }
    // Placed from the back: innermost level first, its bid before its ask.
    to_place_.clear();
    for (int level = options_.levels - 1; level >= 0; --level) {
      for (int side = 1; side >= 0; --side) {
        if (!resting_[side][static_cast<size_t>(level)]) {
          to_place_.emplace_back(side, level);
        }
      }
    }
    if (to_place_.empty()) {
      EndCycle(now_ms);
    }
    return true;
  }
  auto [side, level] = to_place_.back();
  to_place_.pop_back();
  if (ok) {
    ++placed_;
    // Resting unless it traded in full at once; the next sync says which.
    resting_[side][static_cast<size_t>(level)] =
        body.find("\"status\":\"FILLED\"") == std::string_view::npos;
  }
  if (to_place_.empty()) {
    EndCycle(now_ms);
  }
  return ok;
}

void MarketMaker::OnTransportError(int64_t now_ms) {
  in_flight_ = false;
  EndCycle(now_ms);
}

}  // namespace spotex::bench
