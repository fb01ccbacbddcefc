#include "db/pool.h"

#include <utility>

namespace spotex::db {

PgPool::PgPool(PgConnParams params, size_t size, std::chrono::milliseconds acquire_timeout)
    : params_(std::move(params)), size_(size == 0 ? 1 : size), acquire_timeout_(acquire_timeout) {}

PgPool::Lease::~Lease() {
  if (pool_ != nullptr) pool_->Release(std::move(conn_));
}

PgExpected<PgPool::Lease> PgPool::Acquire() {
  std::unique_ptr<PgConnection> conn;
  {
    std::unique_lock lock(mu_);
    const bool got = cv_.wait_for(lock, acquire_timeout_, [&] {
      return !idle_.empty() || idle_.size() + leased_or_connecting_ < size_;
    });
    if (!got) {
      return std::unexpected(PgError{"", "", "no database connection free within " +
                                                 std::to_string(acquire_timeout_.count()) + " ms"});
    }
    ++leased_or_connecting_;
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (conn && !conn->ok()) conn.reset();  // broken while idle: replace it
  if (!conn) {
    auto fresh = PgConnection::Connect(params_);
    if (!fresh) {
      std::lock_guard lock(mu_);
      --leased_or_connecting_;
      cv_.notify_one();
      return std::unexpected(std::move(fresh.error()));
    }
    conn = std::make_unique<PgConnection>(std::move(*fresh));
  }
  return Lease(this, std::move(conn));
}

void PgPool::Release(std::unique_ptr<PgConnection> conn) {
  std::lock_guard lock(mu_);
  --leased_or_connecting_;
  // A broken connection, or one left inside a transaction, is closed rather than reused.
  if (conn && conn->ok() && !conn->in_transaction()) idle_.push_back(std::move(conn));
  cv_.notify_one();
}

}  // namespace spotex::db
