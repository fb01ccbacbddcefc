#include "gateway/users/worker_pool.h"

#include <algorithm>
#include <memory>
#include <utility>

namespace spotex::gateway::users {

WorkerPool::WorkerPool(size_t threads, size_t queue_max)
    : queue_max_(std::clamp<size_t>(queue_max, 1, kQueueMax)) {
  threads = std::clamp<size_t>(threads, 1, kThreadsMax);
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) {
    threads_.emplace_back([this] { Loop(); });
  }
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) {
    t.join();
  }
}

bool WorkerPool::TrySubmit(Task task) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= queue_max_) {
      ++rejected_;
      return false;
    }
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

void WorkerPool::Run(http::Responder responder, std::function<void(http::Responder&)> work) {
  // The Responder lives in a shared slot so that a refused task (whose closure is dropped
  // unrun) leaves it here to answer 503, and an accepted one moves it onto the pool.
  auto slot = std::make_shared<http::Responder>(std::move(responder));
  const bool queued = TrySubmit([slot, work = std::move(work)] { work(*slot); });
  if (!queued) {
    slot->Send(http::Response::FromError(http::errors::ServerBusy()));
  }
}

uint64_t WorkerPool::rejected() const {
  std::lock_guard lock(mu_);
  return rejected_;
}

size_t WorkerPool::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void WorkerPool::Loop() {
  for (;;) {
    Task task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) {
        return;  // stopping, and everything queued has run
      }
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      task();
    } catch (...) {
      // A task answers its own errors; an escaped exception must not end the thread. Its
      // Responder, if it had one, answers 500 when destroyed.
    }
  }
}

}  // namespace spotex::gateway::users
