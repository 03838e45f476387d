#include "mlxt/server/connections.h"

#include <thread>

namespace mlxt::server {

TaskThreads::~TaskThreads() {
  wait_idle();
}

void TaskThreads::run(std::function<void()> task) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (running_ >= max_threads_) {
    queued_.push_back(std::move(task));
    return;
  }
  ++running_;
  std::thread([this, task = std::move(task)]() mutable {
    work(std::move(task));
  }).detach();
}

// A thread runs its task, then whatever queued behind the cap. The last
// unlock and notify happen at thread exit, so wait_idle (and the destructor
// after it) never races a thread still touching this object.
void TaskThreads::work(std::function<void()> task) {
  for (;;) {
    task();
    task = nullptr; // its captures go before the next task starts
    std::unique_lock<std::mutex> lock(mutex_);
    if (queued_.empty()) {
      --running_;
      std::notify_all_at_thread_exit(idle_, std::move(lock));
      return;
    }
    task = std::move(queued_.front());
    queued_.pop_front();
  }
}

void TaskThreads::wait_idle() {
  std::unique_lock<std::mutex> lock(mutex_);
  idle_.wait(lock, [this] { return running_ == 0 && queued_.empty(); });
}

bool ClientSlots::acquire(const std::string& address) {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t& open = open_[address];
  if (open >= per_client_) {
    return false;
  }
  ++open;
  return true;
}

void ClientSlots::release(const std::string& address) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = open_.find(address);
  if (it != open_.end() && --it->second == 0) {
    open_.erase(it);
  }
}

} // namespace mlxt::server
