// A bounded in-memory history of the resumable streams (beyond Binance, docs/streams.md
// "Resume"): per symbol, the last depthUpdates (by update id U..u) and the last trades (by trade
// id), so that a client that reconnects can ask for everything after the last id it holds
// instead of refetching a snapshot. Entries leave when there are more than `messages` per
// stream, more than `bytes` of payload per stream, or when they are older than `age_ms` behind
// the stream's newest message.
//
// Thread safety: none; the owner (StreamHub) calls it under its own lock, so that a replay and
// the live messages after it are gap-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <expected>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/streams/encoder.h"
#include "gateway/streams/stream_name.h"

namespace spotex::gateway::streams {

class StreamHistory {
 public:
  struct Limits {
    size_t messages = 10'000;
    size_t bytes = 16 * 1024 * 1024;
    int64_t age_ms = 60'000;
  };
  struct Entry {
    int64_t first_id = 0, last_id = 0, event_ms = 0;
    std::shared_ptr<const std::string> raw;
    std::optional<uint32_t> checksum;
  };

  explicit StreamHistory(Limits limits) : limits_(limits) {}
  StreamHistory() : StreamHistory(Limits{}) {}

  // True for the messages kept: <symbol>@depth (the @depth@100ms copy is the same payload and
  // is served from it) and <symbol>@trade.
  static bool Keeps(const StreamKey& key);
  // The key whose history serves `key` (@depth@100ms -> @depth); nullopt = not resumable.
  static std::optional<StreamKey> HistoryKey(const StreamKey& key);

  // Appends `m` (a kept stream; others are ignored), sharing `raw` (m.raw's bytes).
  void Record(const StreamMessage& m, std::shared_ptr<const std::string> raw);

  // The entries a client needs to continue `key` from id `from_id` (the first update id or
  // trade id it does not hold, i.e. its last one + 1), oldest first; empty when it is up to date.
  // For depth the first entry may start before from_id (U <= from_id <= u), as after a REST
  // snapshot. An error text says why not: nothing held for the stream, the id is older than the
  // history, or it is ahead of the stream.
  std::expected<std::vector<const Entry*>, std::string> Since(const StreamKey& key,
                                                              int64_t from_id) const;

  size_t size(const StreamKey& key) const;

 private:
  struct Stream {
    std::deque<Entry> entries;
    size_t bytes = 0;
    int64_t next_id = 0;   // the last id recorded + 1
    int64_t floor_id = 0;  // the highest id not held (evicted or before the first recorded)
  };
  Limits limits_;
  std::map<StreamKey, Stream> streams_;
};

}  // namespace spotex::gateway::streams
