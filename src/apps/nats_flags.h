// --nats-url, --nats-user and --nats-password-file, which every Spotex program that talks to the
// command log takes the same way (the password only ever from a file, never on the command
// line).
#pragma once

#include <expected>
#include <string>

#include "apps/flags.h"
#include "bus/nats.h"

namespace spotex::apps {

// The NATS connection the flags describe, named `client_name`; the error text to print (the
// program then exits 2) when the password file cannot be read.
inline std::expected<bus::NatsConfig, std::string> NatsFromFlags(const Flags& flags,
                                                                 std::string client_name) {
  bus::NatsConfig nc;
  nc.url = flags.Get("nats-url", "nats://127.0.0.1:4222");
  nc.user = flags.Get("nats-user");
  nc.name = std::move(client_name);
  if (const std::string file = flags.Get("nats-password-file"); !file.empty()) {
    auto password = bus::ReadSecretFile(file);
    if (!password) {
      return std::unexpected(password.error().message);
    }
    nc.password = std::move(*password);
  }
  return nc;
}

}  // namespace spotex::apps
