#include "mlxt/train/metrics.h"

#include <unistd.h>

#include <cmath>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "mlxt/core/error.h"

namespace mlxt::train {

namespace {

std::string format_number(double value) {
  std::ostringstream ss;
  if (std::abs(value) >= 1e4 || (value != 0 && std::abs(value) < 1e-3)) {
    ss << std::scientific << std::setprecision(3) << value;
  } else {
    ss << std::fixed << std::setprecision(4) << value;
  }
  return ss.str();
}

} // namespace

bool stderr_is_terminal() {
  return isatty(STDERR_FILENO) == 1;
}

MetricsLog::MetricsLog(const std::filesystem::path& file,
                       std::ostream& out,
                       bool progress_bar,
                       int total_steps)
    : out_(out), progress_bar_(progress_bar), total_steps_(total_steps) {
  std::filesystem::create_directories(file.parent_path());
  file_.open(file, std::ios::app);
  if (!file_) {
    fail(ErrorCode::io,
         "cannot open the metrics file for writing",
         {.file = file.string()});
  }
}

void MetricsLog::record(const nlohmann::json& record) {
  file_ << record.dump() << "\n";
  file_.flush();
  if (progress_bar_) {
    out_ << "\r\033[K";
  }
  std::string line;
  for (const auto& [key, value] : record.items()) {
    if (key == "event") {
      continue;
    }
    line += (line.empty() ? "" : ", ") + key + " " +
            (value.is_number_float() ? format_number(value.get<double>())
                                     : value.dump());
  }
  out_ << "[" << record.value("event", "info") << "] " << line << "\n";
  out_.flush();
}

void MetricsLog::progress(int step) {
  if (!progress_bar_ || total_steps_ <= 0) {
    return;
  }
  const int width = 30;
  const int filled = width * step / total_steps_;
  out_ << "\r\033[K[" << std::string(filled, '#')
       << std::string(width - filled, '.') << "] " << step << "/"
       << total_steps_;
  out_.flush();
}

} // namespace mlxt::train
