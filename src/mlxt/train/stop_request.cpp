#include "mlxt/train/stop_request.h"

#include <atomic>
#include <csignal>

namespace mlxt::train {

namespace {

std::atomic<bool> stop_flag{false};
static_assert(std::atomic<bool>::is_always_lock_free,
              "the signal handler needs a lock-free flag");

extern "C" void on_stop_signal(int) {
  stop_flag.store(true, std::memory_order_relaxed);
}

} // namespace

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
}

bool stop_requested() {
  return stop_flag.load(std::memory_order_relaxed);
}

void request_stop() {
  stop_flag.store(true, std::memory_order_relaxed);
}

} // namespace mlxt::train
