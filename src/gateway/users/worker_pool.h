// A small fixed pool of threads for the blocking work of the account endpoints: argon2id hashing
// and verification (tens to hundreds of milliseconds each), PostgreSQL statements, session-store
// calls and engine commands. The HTTP I/O threads must never block (gateway/http/server.h), so a
// handler parses its parameters, hands the rest of the work and its Responder to this pool, and
// returns at once; a pool thread does the work and answers.
//
// The queue is bounded (STYLE.md §5): when `queue_max` tasks are already waiting, TrySubmit
// refuses and the caller answers -1008 (HTTP 503) at once, instead of letting a login storm grow
// a queue whose requests would all time out anyway.
//
// Thread safety: TrySubmit may be called from any thread. The destructor stops taking work,
// runs the tasks still queued, and joins the threads; it must not be called from a pool thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "gateway/http/server.h"

namespace spotex::gateway::users {

class WorkerPool {
 public:
  static constexpr size_t kThreadsMax = 64;
  static constexpr size_t kQueueMax = 100'000;

  using Task = std::function<void()>;

  // Starts `threads` threads (1..kThreadsMax) with room for `queue_max` (1..kQueueMax) tasks
  // waiting beyond the ones running. Out-of-range values are clamped into range.
  WorkerPool(size_t threads, size_t queue_max);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`; false (and `task` is dropped unrun) if the queue is full or the pool is
  // stopping. A task that throws is caught and ignored: tasks answer their own errors.
  [[nodiscard]] bool TrySubmit(Task task);

  // Runs `work(responder)` on the pool. When the pool refuses, answers -1008 (HTTP 503)
  // through `responder` at once. Never blocks.
  void Run(http::Responder responder, std::function<void(http::Responder&)> work);

  // Counters since construction; thread-safe.
  uint64_t rejected() const;
  size_t queued() const;

 private:
  void Loop();

  const size_t queue_max_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> queue_;  // guarded by mu_
  bool stopping_ = false;   // guarded by mu_
  uint64_t rejected_ = 0;   // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace spotex::gateway::users
