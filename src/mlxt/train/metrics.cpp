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

std::string format_rate(double value) {
  std::ostringstream ss;
  ss << std::fixed << std::setprecision(value < 10 ? 2 : 0) << value;
  return ss.str();
}

} // namespace

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) {
    return "?";
  }
  const long s = std::lround(seconds);
  if (s < 60) {
    return std::to_string(s) + " s";
  }
  std::ostringstream ss;
  if (s >= 3600) {
    ss << s / 3600 << ":" << std::setw(2) << std::setfill('0')
       << (s % 3600) / 60;
  } else {
    ss << s / 60;
  }
  ss << ":" << std::setw(2) << std::setfill('0') << s % 60;
  return ss.str();
}

bool stderr_is_terminal() {
  return isatty(STDERR_FILENO) == 1;
}

MetricsLog::MetricsLog(const std::filesystem::path& file,
                       std::ostream& out,
                       bool terminal,
                       double line_interval_seconds)
    : out_(out), terminal_(terminal),
      line_interval_seconds_(line_interval_seconds) {
  std::filesystem::create_directories(file.parent_path());
  file_.open(file, std::ios::app);
  if (!file_) {
    fail(ErrorCode::io,
         "cannot open the metrics file for writing",
         {.file = file.string()});
  }
}

void MetricsLog::clear_progress_line() {
  if (progress_shown_) {
    out_ << "\r\033[K";
    progress_shown_ = false;
  }
}

void MetricsLog::record(const nlohmann::json& record) {
  file_ << record.dump() << "\n";
  file_.flush();
  std::string line;
  for (const auto& [key, value] : record.items()) {
    if (key == "event") {
      continue;
    }
    line += (line.empty() ? "" : ", ") + key + " " +
            (value.is_number_float() ? format_number(value.get<double>())
                                     : value.dump());
  }
  note("[" + record.value("event", "info") + "] " + line);
}

void MetricsLog::note(const std::string& text) {
  clear_progress_line();
  out_ << text << "\n";
  out_.flush();
  last_line_ = std::chrono::steady_clock::now();
  any_line_ = true;
}

void MetricsLog::progress(const Progress& p) {
  std::ostringstream line;
  line << "[" << p.phase << "] " << p.done << "/" << p.total;
  if (p.done > 0) {
    line << " | " << format_rate(p.seconds_per_unit) << " s/"
         << (p.phase == "eval" ? "batch" : "step");
  }
  if (p.tokens_per_sec > 0) {
    line << " | " << format_rate(p.tokens_per_sec) << " tok/s";
  }
  line << " | " << format_duration(p.elapsed_seconds) << " elapsed";
  if (p.done > 0 && p.done < p.total) {
    line << " | ETA " << format_duration(p.eta_seconds);
  }
  if (terminal_) {
    out_ << "\r\033[K" << line.str();
    out_.flush();
    progress_shown_ = true;
    return;
  }
  const double since = std::chrono::duration<double>(
                           std::chrono::steady_clock::now() - last_line_)
                           .count();
  if (!any_line_ || since >= line_interval_seconds_ || p.done == 0) {
    note(line.str());
  }
}

} // namespace mlxt::train
