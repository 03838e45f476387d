#include "mlxt/core/failpoint.h"

#include <csignal>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>

namespace mlxt {

namespace {

struct Trigger {
  long hit = 0;
  int signal = SIGKILL;
};

struct Failpoints {
  std::map<std::string, Trigger, std::less<>> kill_at;
  std::map<std::string, long, std::less<>> hits;
  std::mutex mutex;
};

Failpoints* configured() {
  static Failpoints* points = []() -> Failpoints* {
    const char* spec = std::getenv("MLXT_FAILPOINTS");
    if (spec == nullptr || *spec == '\0') {
      return nullptr;
    }
    auto* p = new Failpoints;
    std::string text = spec;
    size_t start = 0;
    while (start <= text.size()) {
      size_t end = text.find(',', start);
      std::string item = text.substr(start, end - start);
      Trigger trigger;
      if (item.ends_with(":TERM")) {
        trigger.signal = SIGTERM;
        item.resize(item.size() - 5);
      }
      size_t colon = item.rfind(':');
      if (colon != std::string::npos) {
        trigger.hit = std::strtol(item.c_str() + colon + 1, nullptr, 10);
        p->kill_at[item.substr(0, colon)] = trigger;
      }
      if (end == std::string::npos) {
        break;
      }
      start = end + 1;
    }
    return p;
  }();
  return points;
}

} // namespace

void failpoint(std::string_view name) {
  Failpoints* points = configured();
  if (points == nullptr) {
    return;
  }
  std::lock_guard lock(points->mutex);
  auto target = points->kill_at.find(name);
  if (target == points->kill_at.end()) {
    return;
  }
  long hit = ++points->hits[std::string(name)];
  if (hit == target->second.hit) {
    std::raise(target->second.signal);
  }
}

} // namespace mlxt
