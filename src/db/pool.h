// A fixed-size pool of PostgreSQL connections shared by threads (the gateway's handlers).
// Connections are opened lazily, a broken one is replaced on its next use, and a caller waits
// at most `acquire_timeout` for a free connection. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "db/pg.h"

namespace spotex::db {

class PgPool {
 public:
  // `size` >= 1 connections at most.
  PgPool(PgConnParams params, size_t size,
         std::chrono::milliseconds acquire_timeout = std::chrono::milliseconds(5000));
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  // A borrowed connection, given back when destroyed. Move-only.
  class Lease {
   public:
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), conn_(std::move(other.conn_)) {}
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();

    PgConnection& operator*() { return *conn_; }
    PgConnection* operator->() { return conn_.get(); }

   private:
    friend class PgPool;
    Lease(PgPool* pool, std::unique_ptr<PgConnection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    PgPool* pool_;
    std::unique_ptr<PgConnection> conn_;
  };

  // A healthy connection (connecting one if needed), or the error: no connection free within
  // the acquire timeout, or the server cannot be reached.
  [[nodiscard]] PgExpected<Lease> Acquire();

 private:
  void Release(std::unique_ptr<PgConnection> conn);

  const PgConnParams params_;
  const size_t size_;
  const std::chrono::milliseconds acquire_timeout_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PgConnection>> idle_;
  size_t leased_or_connecting_ = 0;
};

}  // namespace spotex::db
