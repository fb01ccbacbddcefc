// Demo users for a fresh installation (issue 4 §6): on first start the gateway creates two
// funded users and writes their credentials and API keys to var/demo/users.json, so that a
// Binance client can trade against the stack at once.
//
// The file is the marker: if it exists nothing is done (restarts are idempotent). If it does
// not exist but one of the demo emails is already in the database (the file was deleted, or an
// earlier start failed half-way), CreateDemoUsers fails with a message saying so rather than
// create users that could not be told apart from the old ones.
//
// The file is a JSON array of {"email","password","apiKey","apiSecret","userId"}, written to a
// temporary file in the same directory, fsynced and renamed into place, mode 0600 (it holds
// passwords and secrets in the clear: it is for demos, never for production).
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <vector>

#include "gateway/users/user_service.h"

namespace spotex::gateway::users {

struct DemoFunding {
  std::string asset;   // engine asset name
  std::string amount;  // decimal text
};

struct DemoUsersOptions {
  std::string path = "var/demo/users.json";
  std::vector<std::string> emails = {"demo1@spotex.local", "demo2@spotex.local"};
  // Deposited into each user; assets the engine does not have are skipped.
  std::vector<DemoFunding> funding = {
      {"BTC", "10"}, {"ETH", "100"}, {"BNB", "1000"}, {"USDT", "1000000"}};
};

struct DemoUser {
  int64_t user_id = 0;
  std::string email;
  std::string password;
  std::string api_key;
  std::string api_secret;
};

struct DemoUsersOutcome {
  bool created = false;         // false: the file existed, nothing was done
  std::vector<DemoUser> users;  // when created
};

// Blocking (hashing, database, engine commands): call it at start-up, before serving. An
// error text names what failed. Each user gets one HMAC key with READ and TRADE.
[[nodiscard]] std::expected<DemoUsersOutcome, std::string> CreateDemoUsers(
    UserService& service, const DemoUsersOptions& options = {});

// The file's JSON text for `users` (exposed for tests).
std::string DemoUsersJson(const std::vector<DemoUser>& users);

}  // namespace spotex::gateway::users
