// What keeps long-lived and slow connections from starving the others: a
// thread for each connection (up to a cap) instead of a fixed pool, and a
// cap on the connections one client address holds at once. Socket-free:
// `http.cpp` applies both to the listener's connections.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace mlxt::server {

//! Runs each task on a thread of its own, at most `max_threads` at once;
//! past that, tasks wait in order for a thread to finish.
class TaskThreads {
public:
  explicit TaskThreads(size_t max_threads) : max_threads_(max_threads) {}
  //! Waits for every task (see wait_idle).
  ~TaskThreads();
  TaskThreads(const TaskThreads&) = delete;
  TaskThreads& operator=(const TaskThreads&) = delete;

  //! Starts `task` on a new thread, or queues it while max_threads run.
  void run(std::function<void()> task);
  //! Blocks until every task started or queued has returned.
  void wait_idle();

private:
  void work(std::function<void()> task);

  const size_t max_threads_;
  std::mutex mutex_;
  std::condition_variable idle_;
  std::deque<std::function<void()>> queued_;
  size_t running_ = 0;
};

//! Counts open connections per client address against a cap.
class ClientSlots {
public:
  explicit ClientSlots(size_t per_client) : per_client_(per_client) {}

  //! Takes a slot for `address`; false when it holds `per_client` already.
  bool acquire(const std::string& address);
  //! Gives back a slot acquire() granted.
  void release(const std::string& address);
  size_t per_client() const { return per_client_; }

private:
  const size_t per_client_;
  std::mutex mutex_;
  std::map<std::string, size_t> open_; // address -> connections held
};

} // namespace mlxt::server
