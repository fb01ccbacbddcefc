#include "ws_frames.h"

#include <cstring>

namespace spotex::bench {

FrameReader::State FrameReader::Fail(std::string_view why) {
  if (error_.empty()) {
    error_ = std::string(why);
  }
  return State::kError;
}

FrameReader::State FrameReader::Next(WsMessage& out) {
  if (!error_.empty()) {
    return State::kError;
  }
  for (;;) {
    // Drop what earlier calls consumed once it is most of the buffer (amortised O(1)).
    if (pos_ > 0 && pos_ * 2 >= buffer_.size()) {
      buffer_.erase(0, pos_);
      pos_ = 0;
    }
    const size_t avail = buffer_.size() - pos_;
    if (avail < 2) {
      return State::kNeedMore;
    }
    const auto* p = reinterpret_cast<const uint8_t*>(buffer_.data() + pos_);
    const bool fin = (p[0] & 0x80) != 0;
    const uint8_t opcode = p[0] & 0x0F;
    if ((p[0] & 0x70) != 0) {
      return Fail("reserved bits set");
    }
    if ((p[1] & 0x80) != 0) {
      return Fail("masked server frame");
    }
    uint64_t len = p[1] & 0x7F;
    size_t header = 2;
    if (len == 126) {
      if (avail < 4) {
        return State::kNeedMore;
      }
      len = (uint64_t{p[2]} << 8) | p[3];
      header = 4;
    } else if (len == 127) {
      if (avail < 10) {
        return State::kNeedMore;
      }
      len = 0;
      for (int i = 0; i < 8; ++i) {
        len = (len << 8) | p[2 + i];
      }
      header = 10;
    }
    if (len > kWsMessageBytesMax) {
      return Fail("frame over the message limit");
    }
    const bool control = (opcode & 0x8) != 0;
    if (control && (len > 125 || !fin)) {
      return Fail("bad control frame");
    }
    if (opcode != 0x0 && opcode != 0x1 && opcode != 0x2 && opcode != 0x8 && opcode != 0x9 &&
        opcode != 0xA) {
      return Fail("reserved opcode");
    }
    if (avail < header + len) {
      return State::kNeedMore;
    }
    std::string_view payload(buffer_.data() + pos_ + header, static_cast<size_t>(len));
    pos_ += header + static_cast<size_t>(len);
    if (control) {
      message_.assign(payload);
      out = WsMessage{static_cast<WsOpcode>(opcode), message_};
      return State::kMessage;
    }
    if (opcode == 0x0) {
      if (!in_fragmented_) {
        return Fail("continuation without a first fragment");
      }
    } else {
      if (in_fragmented_) {
        return Fail("new message inside a fragmented one");
      }
      fragment_opcode_ = static_cast<WsOpcode>(opcode);
      fragments_.clear();
    }
    if (fragments_.size() + payload.size() > kWsMessageBytesMax) {
      return Fail("message over the limit");
    }
    fragments_.append(payload);
    in_fragmented_ = !fin;
    if (fin) {
      message_.swap(fragments_);
      fragments_.clear();
      out = WsMessage{fragment_opcode_, message_};
      return State::kMessage;
    }
  }
}

std::string PongFrame(std::string_view payload) {
  std::string frame;
  const size_t len = payload.size() > 125 ? 125 : payload.size();
  frame.push_back(static_cast<char>(0x8A));  // FIN + pong
  frame.push_back(static_cast<char>(0x80 | len));
  frame.append(4, '\0');  // masking key 0: the payload goes as is
  frame.append(payload.substr(0, len));
  return frame;
}

namespace {

// The integer after position `i` (skipping a quote for string values); -1 if none.
int64_t IntAt(std::string_view s, size_t i) {
  if (i < s.size() && s[i] == '"') {
    ++i;
  }
  int64_t v = 0;
  size_t start = i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 18) {
    v = v * 10 + (s[i] - '0');
    ++i;
  }
  return i == start ? -1 : v;
}

}  // namespace

StreamFields ParseStreamFields(std::string_view json) {
  StreamFields f;
  // Single-letter keys: '"', letter, '"', ':' then the value.
  for (size_t i = 0; i + 4 < json.size(); ++i) {
    const char c = json[i];
    if (c == '[') {
      break;
    }
    if (c != '"' || json[i + 2] != '"' || json[i + 3] != ':') {
      continue;
    }
    const size_t v = i + 4;
    switch (json[i + 1]) {
      case 'e':
        if (f.kind == StreamFields::Kind::kOther) {
          std::string_view rest = json.substr(v);
          if (rest.starts_with("\"trade\"")) {
            f.kind = StreamFields::Kind::kTrade;
          } else if (rest.starts_with("\"depthUpdate\"")) {
            f.kind = StreamFields::Kind::kDepthUpdate;
          }
        }
        break;
      case 'E':
        f.event_ms = IntAt(json, v);
        break;
      case 'T':
        f.trade_time_ms = IntAt(json, v);
        break;
      case 't':
        f.trade_id = IntAt(json, v);
        break;
      case 'U':
        f.first_update = IntAt(json, v);
        break;
      case 'u':
        f.last_update = IntAt(json, v);
        break;
      default:
        break;
    }
    i = v - 1;
  }
  return f;
}

}  // namespace spotex::bench
