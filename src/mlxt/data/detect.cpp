#include "mlxt/data/detect.h"

#include <map>
#include <set>

#include "mlxt/core/error.h"

namespace mlxt::data {

using nlohmann::json;

namespace {

struct Vote {
  Format format;
  const char* why;
};

// The shape of one row, by its keys; the first rule that matches wins, so
// the more specific shapes come first.
std::optional<Vote> vote(const json& row) {
  auto has = [&](const char* k) { return row.contains(k); };
  if (has("chosen") && has("rejected")) {
    return Vote{Format::preference, "chosen and rejected"};
  }
  if (has("conversations")) {
    return Vote{Format::sharegpt, "conversations"};
  }
  if (has("messages")) {
    const json& m = row["messages"];
    if (m.is_array() && !m.empty() && m[0].is_object() &&
        m[0].contains("from") && m[0].contains("value")) {
      return Vote{Format::sharegpt, "messages of {from, value} turns"};
    }
    return Vote{Format::messages, "messages"};
  }
  if (has("instruction") && (has("output") || has("response"))) {
    return Vote{Format::alpaca,
                has("output") ? "instruction and output"
                              : "instruction and response"};
  }
  if (has("prompt") && has("completion")) {
    return Vote{Format::completions, "prompt and completion"};
  }
  if (has("text")) {
    return Vote{Format::text, "text"};
  }
  return std::nullopt;
}

} // namespace

Detection detect_format(const std::vector<json>& rows,
                        const std::string& file) {
  std::map<Format, std::pair<int, const char*>> votes;
  std::set<std::string> keys;
  int objects = 0;
  for (const json& row : rows) {
    if (!row.is_object()) {
      continue;
    }
    ++objects;
    for (const auto& item : row.items()) {
      keys.insert(item.key());
    }
    if (auto v = vote(row)) {
      auto& [count, why] = votes[v->format];
      ++count;
      why = v->why;
    }
  }
  if (votes.empty()) {
    std::string seen;
    for (const std::string& k : keys) {
      seen += (seen.empty() ? "" : ", ") + k;
    }
    fail(ErrorCode::invalid_data,
         objects == 0
             ? "cannot detect the format: no readable rows"
             : "cannot detect the format: the rows have keys {" + seen +
                   "}; expected text, prompt/completion, instruction/output, "
                   "messages, conversations or chosen/rejected (map columns "
                   "with --columns, e.g. instruction=question)",
         {.file = file});
  }
  auto best = votes.begin();
  for (auto it = votes.begin(); it != votes.end(); ++it) {
    if (it->second.first > best->second.first) {
      best = it;
    }
  }
  std::string reason = std::to_string(best->second.first) + " of " +
                       std::to_string(objects) + " sampled rows have " +
                       best->second.second;
  if (votes.size() > 1) {
    reason += " (others look like";
    for (const auto& [format, vote] : votes) {
      if (format != best->first) {
        reason += std::string(" ") + format_name(format) + ": " +
                  std::to_string(vote.first);
      }
    }
    reason += ")";
  }
  return {best->first, reason};
}

} // namespace mlxt::data
