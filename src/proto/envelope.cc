#include "proto/envelope.h"

#include <cstring>

namespace spotex::proto {

namespace {

using engine::EventType;

// The event records are part of the wire format: their sizes are frozen for version 1.
static_assert(sizeof(engine::EventHeader) == 16);
static_assert(sizeof(engine::CommandRejected) == 56);
static_assert(sizeof(engine::OrderAccepted) == 128);
static_assert(sizeof(engine::OrderUpdate) == 88);
static_assert(sizeof(engine::OrderCanceledBy) == 48);
static_assert(sizeof(engine::OrderAmended) == 128);
static_assert(sizeof(engine::Trade) == 96);
static_assert(sizeof(engine::PreventedMatch) == 64);
static_assert(sizeof(engine::BalanceChanged) == 48);
static_assert(sizeof(engine::BookLevel) == 32);
static_assert(sizeof(engine::OrderList) == 88);
static_assert(sizeof(engine::Transfer) == 32);
static_assert(sizeof(engine::AssetAdded) == 32);
static_assert(sizeof(engine::SymbolAdded) == 200);
static_assert(sizeof(engine::SymbolStatusChanged) == 8);
static_assert(sizeof(engine::AccountUpdated) == 32);

template <class E>
constexpr uint16_t RecordSize() {
  return static_cast<uint16_t>((sizeof(engine::EventHeader) + sizeof(E) + 7) & ~size_t{7});
}

// Record size of each event type; 0 = not a type.
uint16_t ExpectedSize(EventType t) {
  switch (t) {
    case EventType::kCommandRejected:
      return RecordSize<engine::CommandRejected>();
    case EventType::kOrderAccepted:
      return RecordSize<engine::OrderAccepted>();
    case EventType::kOrderUpdate:
      return RecordSize<engine::OrderUpdate>();
    case EventType::kOrderCanceledBy:
      return RecordSize<engine::OrderCanceledBy>();
    case EventType::kOrderAmended:
      return RecordSize<engine::OrderAmended>();
    case EventType::kTrade:
      return RecordSize<engine::Trade>();
    case EventType::kPreventedMatch:
      return RecordSize<engine::PreventedMatch>();
    case EventType::kBalanceChanged:
      return RecordSize<engine::BalanceChanged>();
    case EventType::kBookLevel:
      return RecordSize<engine::BookLevel>();
    case EventType::kOrderList:
      return RecordSize<engine::OrderList>();
    case EventType::kTransfer:
      return RecordSize<engine::Transfer>();
    case EventType::kAssetAdded:
      return RecordSize<engine::AssetAdded>();
    case EventType::kSymbolAdded:
      return RecordSize<engine::SymbolAdded>();
    case EventType::kSymbolStatusChanged:
      return RecordSize<engine::SymbolStatusChanged>();
    case EventType::kAccountUpdated:
      return RecordSize<engine::AccountUpdated>();
  }
  return 0;
}

void Put(std::byte* at, const void* v, size_t n) { std::memcpy(at, v, n); }

template <class T>
T Get(const std::byte* at) {
  T v;
  std::memcpy(&v, at, sizeof v);
  return v;
}

void WriteHeader(const EnvelopeHeader& h, uint32_t events_bytes, std::byte* at) {
  std::memset(at, 0, kEnvelopeHeaderBytes);
  std::memcpy(at, "SPXE", 4);
  uint16_t version = kEnvelopeVersion;
  Put(at + 4, &version, 2);
  uint8_t flags = h.malformed ? 1 : 0;
  uint8_t derr = h.malformed ? static_cast<uint8_t>(h.decode_error) : 0;
  Put(at + 6, &flags, 1);
  Put(at + 7, &derr, 1);
  Put(at + 8, &h.shard, 4);
  Put(at + 12, &h.event_count, 4);
  Put(at + 16, &h.seq, 8);
  Put(at + 24, &h.time_ms, 8);
  auto code = static_cast<uint16_t>(h.code);
  auto cancel = static_cast<uint16_t>(h.cancel_code);
  auto neworder = static_cast<uint16_t>(h.new_order_code);
  Put(at + 32, &code, 2);
  Put(at + 34, &cancel, 2);
  Put(at + 36, &neworder, 2);
  Put(at + 40, &h.order_id, 8);
  Put(at + 48, &h.order_list_id, 8);
  Put(at + 56, &events_bytes, 4);
}

uint32_t CountRecords(std::span<const std::byte> events) {
  uint32_t n = 0;
  for (engine::EventReader r(events); !r.Done(); r.Next()) {
    ++n;
  }
  return n;
}

}  // namespace

void AppendEnvelope(uint32_t shard, const engine::Command& cmd, const engine::ApplyResult& result,
                    std::vector<std::byte>& out) {
  EnvelopeHeader h;
  h.shard = shard;
  h.event_count = CountRecords(result.events);
  h.seq = cmd.seq;
  h.time_ms = cmd.time_ms;
  h.code = result.code;
  h.cancel_code = result.cancel_code;
  h.new_order_code = result.new_order_code;
  h.order_id = result.order_id;
  h.order_list_id = result.order_list_id;
  size_t at = out.size();
  out.resize(at + kEnvelopeHeaderBytes + result.events.size());
  WriteHeader(h, static_cast<uint32_t>(result.events.size()), out.data() + at);
  std::memcpy(out.data() + at + kEnvelopeHeaderBytes, result.events.data(), result.events.size());
}

void AppendMalformedEnvelope(uint32_t shard, uint64_t seq, int64_t time_ms, DecodeError error,
                             std::vector<std::byte>& out) {
  engine::EventBuffer events;
  auto& e = events.Append<engine::CommandRejected>(seq);
  e.account = 0;
  e.code = engine::RejectCode::kInvalidParameter;
  e.part = engine::CommandPart::kWhole;
  e.command_index = 0xFF;
  EnvelopeHeader h;
  h.malformed = true;
  h.decode_error = error;
  h.shard = shard;
  h.event_count = 1;
  h.seq = seq;
  h.time_ms = time_ms;
  h.code = engine::RejectCode::kInvalidParameter;
  size_t at = out.size();
  out.resize(at + kEnvelopeHeaderBytes + events.bytes().size());
  WriteHeader(h, static_cast<uint32_t>(events.bytes().size()), out.data() + at);
  std::memcpy(out.data() + at + kEnvelopeHeaderBytes, events.bytes().data(), events.bytes().size());
}

std::string_view ToString(EnvelopeError e) {
  switch (e) {
    case EnvelopeError::kTruncated:
      return "truncated envelope";
    case EnvelopeError::kBadMagic:
      return "not an event envelope (bad magic)";
    case EnvelopeError::kBadVersion:
      return "unsupported envelope version";
    case EnvelopeError::kBadRecord:
      return "malformed event record";
  }
  return "unknown envelope error";
}

size_t Envelope::SizeAt(std::span<const std::byte> bytes) {
  if (bytes.size() < kEnvelopeHeaderBytes) return 0;
  return kEnvelopeHeaderBytes + size_t{Get<uint32_t>(bytes.data() + 56)};
}

void WriteBatchHeader(uint32_t count, uint64_t first_seq, uint64_t last_seq, std::byte* out) {
  std::memset(out, 0, kBatchHeaderBytes);
  std::memcpy(out, "SPXB", 4);
  uint16_t version = 1;
  Put(out + 4, &version, 2);
  Put(out + 8, &count, 4);
  Put(out + 16, &first_seq, 8);
  Put(out + 24, &last_seq, 8);
}

std::expected<EventBatch, EnvelopeError> ParseBatch(std::span<const std::byte> bytes) {
  if (bytes.size() < kBatchHeaderBytes) return std::unexpected(EnvelopeError::kTruncated);
  const std::byte* p = bytes.data();
  if (std::memcmp(p, "SPXB", 4) != 0) return std::unexpected(EnvelopeError::kBadMagic);
  if (Get<uint16_t>(p + 4) != 1) return std::unexpected(EnvelopeError::kBadVersion);
  EventBatch b;
  uint32_t count = Get<uint32_t>(p + 8);
  b.first_seq = Get<uint64_t>(p + 16);
  b.last_seq = Get<uint64_t>(p + 24);
  size_t pos = kBatchHeaderBytes;
  uint64_t prev = 0;
  for (uint32_t i = 0; i < count; ++i) {
    auto rest = bytes.subspan(pos);
    size_t n = Envelope::SizeAt(rest);
    if (n == 0 || n > rest.size()) return std::unexpected(EnvelopeError::kTruncated);
    auto env = Envelope::Parse(rest.first(n));
    if (!env) return std::unexpected(env.error());
    uint64_t seq = env->header().seq;
    if ((i == 0 && seq != b.first_seq) || (i > 0 && seq <= prev)) {
      return std::unexpected(EnvelopeError::kBadRecord);
    }
    prev = seq;
    b.raw.push_back(rest.first(n));
    b.envelopes.push_back(std::move(*env));
    pos += n;
  }
  if (pos != bytes.size() || count == 0 || prev != b.last_seq) {
    return std::unexpected(EnvelopeError::kBadRecord);
  }
  return b;
}

std::expected<Envelope, EnvelopeError> Envelope::Parse(std::span<const std::byte> bytes) {
  if (bytes.size() < kEnvelopeHeaderBytes) {
    return std::unexpected(EnvelopeError::kTruncated);
  }
  const std::byte* p = bytes.data();
  if (std::memcmp(p, "SPXE", 4) != 0) {
    return std::unexpected(EnvelopeError::kBadMagic);
  }
  if (Get<uint16_t>(p + 4) != kEnvelopeVersion) {
    return std::unexpected(EnvelopeError::kBadVersion);
  }
  Envelope env;
  EnvelopeHeader& h = env.header_;
  uint8_t flags = Get<uint8_t>(p + 6);
  uint8_t derr = Get<uint8_t>(p + 7);
  if ((flags & ~1u) != 0 || derr > static_cast<uint8_t>(DecodeError::kBadBool)) {
    return std::unexpected(EnvelopeError::kBadRecord);
  }
  h.malformed = (flags & 1) != 0;
  h.decode_error = static_cast<DecodeError>(derr);
  h.shard = Get<uint32_t>(p + 8);
  h.event_count = Get<uint32_t>(p + 12);
  h.seq = Get<uint64_t>(p + 16);
  h.time_ms = Get<int64_t>(p + 24);
  uint16_t codes[3] = {Get<uint16_t>(p + 32), Get<uint16_t>(p + 34), Get<uint16_t>(p + 36)};
  for (uint16_t c : codes) {
    if (c >= static_cast<uint16_t>(engine::RejectCode::kCount)) {
      return std::unexpected(EnvelopeError::kBadRecord);
    }
  }
  h.code = static_cast<engine::RejectCode>(codes[0]);
  h.cancel_code = static_cast<engine::RejectCode>(codes[1]);
  h.new_order_code = static_cast<engine::RejectCode>(codes[2]);
  h.order_id = Get<int64_t>(p + 40);
  h.order_list_id = Get<int64_t>(p + 48);
  uint32_t events_bytes = Get<uint32_t>(p + 56);
  if (bytes.size() != kEnvelopeHeaderBytes + size_t{events_bytes}) {
    return std::unexpected(bytes.size() < kEnvelopeHeaderBytes + size_t{events_bytes}
                               ? EnvelopeError::kTruncated
                               : EnvelopeError::kBadRecord);
  }
  env.storage_.resize((events_bytes + 7) / 8);
  std::memcpy(env.storage_.data(), p + kEnvelopeHeaderBytes, events_bytes);
  env.events_bytes_ = events_bytes;
  // Walk and validate the records.
  const auto* base = reinterpret_cast<const std::byte*>(env.storage_.data());
  size_t pos = 0;
  uint32_t n = 0;
  while (pos < events_bytes) {
    if (events_bytes - pos < sizeof(engine::EventHeader)) {
      return std::unexpected(EnvelopeError::kBadRecord);
    }
    engine::EventHeader eh;
    std::memcpy(&eh, base + pos, sizeof eh);
    uint16_t want = ExpectedSize(eh.type);
    if (want == 0 || eh.size != want || eh.size > events_bytes - pos || eh.seq != h.seq ||
        eh.index != n) {
      return std::unexpected(EnvelopeError::kBadRecord);
    }
    pos += eh.size;
    ++n;
  }
  if (n != h.event_count) {
    return std::unexpected(EnvelopeError::kBadRecord);
  }
  return env;
}

}  // namespace spotex::proto
