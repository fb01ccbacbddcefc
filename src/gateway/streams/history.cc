#include "gateway/streams/history.h"

#include <algorithm>
#include <utility>

namespace spotex::gateway::streams {

bool StreamHistory::Keeps(const StreamKey& key) {
  return (key.kind == StreamKind::kDepth && key.param.empty()) || key.kind == StreamKind::kTrade;
}

std::optional<StreamKey> StreamHistory::HistoryKey(const StreamKey& key) {
  if (key.kind == StreamKind::kTrade) return key;
  if (key.kind == StreamKind::kDepth) return StreamKey{StreamKind::kDepth, key.symbol, ""};
  return std::nullopt;
}

void StreamHistory::Record(const StreamMessage& m, std::shared_ptr<const std::string> raw) {
  if (!Keeps(m.key) || raw == nullptr || m.last_id <= 0) return;
  auto [it, fresh] = streams_.try_emplace(m.key);
  Stream& s = it->second;
  if (fresh) s.floor_id = m.first_id - 1;
  s.bytes += raw->size();
  s.entries.push_back(Entry{m.first_id, m.last_id, m.event_ms, std::move(raw), m.checksum});
  s.next_id = m.last_id + 1;
  while (!s.entries.empty() &&
         (s.entries.size() > limits_.messages || s.bytes > limits_.bytes ||
          s.entries.front().event_ms < m.event_ms - limits_.age_ms)) {
    s.bytes -= s.entries.front().raw->size();
    s.floor_id = s.entries.front().last_id;
    s.entries.pop_front();
  }
}

std::expected<std::vector<const StreamHistory::Entry*>, std::string> StreamHistory::Since(
    const StreamKey& key, int64_t from_id) const {
  auto hkey = HistoryKey(key);
  if (!hkey) return std::unexpected("only depth and trade streams can be resumed");
  const char* what = key.kind == StreamKind::kTrade ? "trade id " : "update id ";
  auto it = streams_.find(*hkey);
  if (it == streams_.end()) {
    return std::unexpected("no history held for " + key.Name() + "; fetch a snapshot");
  }
  const Stream& s = it->second;
  if (from_id > s.next_id) {
    return std::unexpected(what + std::to_string(from_id) + " is ahead of " + key.Name() +
                           " (next " + std::to_string(s.next_id) + ")");
  }
  std::vector<const Entry*> out;
  if (from_id == s.next_id) return out;
  // Ids up to floor_id are not held (evicted, or before the first one recorded). Trade ids of
  // one symbol need not be consecutive, so the floor, not the first entry's id, decides.
  if (from_id <= s.floor_id) {
    const int64_t oldest = s.floor_id + 1;
    return std::unexpected(what + std::to_string(from_id) + " is older than the history of " +
                           key.Name() + " (oldest " + std::to_string(oldest) +
                           "); fetch a snapshot");
  }
  auto first = std::partition_point(s.entries.begin(), s.entries.end(),
                                    [&](const Entry& e) { return e.last_id < from_id; });
  for (auto e = first; e != s.entries.end(); ++e) out.push_back(&*e);
  return out;
}

size_t StreamHistory::size(const StreamKey& key) const {
  auto it = streams_.find(key);
  return it == streams_.end() ? 0 : it->second.entries.size();
}

}  // namespace spotex::gateway::streams
