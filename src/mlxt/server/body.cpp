#include "mlxt/server/body.h"

#include <algorithm>

#include "mlxt/core/error.h"
#include "mlxt/core/suggest.h"

namespace mlxt::server {

using nlohmann::json;

BodyReader::BodyReader(json body,
                       std::vector<std::string> keys,
                       std::string where)
    : body_(std::move(body)), where_(std::move(where)) {
  for (const auto& [key, value] : body_.items()) {
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) {
      continue;
    }
    std::string what = "unknown key";
    if (std::string near = closest_name(key, keys); !near.empty()) {
      what += " (did you mean \"" + near + "\"?)";
    }
    problem(key, what);
  }
}

void BodyReader::problem(const std::string& key, const std::string& what) {
  problems_.push_back(where_ + key + ": " + what);
}

std::string BodyReader::string(const std::string& key, bool required) {
  if (!body_.contains(key) || body_[key].is_null()) {
    if (required) {
      problem(key, "required (a string)");
    }
    return "";
  }
  if (!body_[key].is_string()) {
    problem(key, "expected a string, got " + body_[key].dump());
    return "";
  }
  return body_[key];
}

bool BodyReader::boolean(const std::string& key, bool fallback) {
  if (!body_.contains(key)) {
    return fallback;
  }
  if (!body_[key].is_boolean()) {
    problem(key, "expected true or false, got " + body_[key].dump());
    return fallback;
  }
  return body_[key];
}

long BodyReader::integer(const std::string& key,
                         long fallback,
                         long min,
                         long max) {
  if (!body_.contains(key)) {
    return fallback;
  }
  const json& v = body_[key];
  if (!v.is_number_integer() || v.get<long>() < min || v.get<long>() > max) {
    problem(key,
            "expected an integer in [" + std::to_string(min) + ", " +
                std::to_string(max) + "], got " + v.dump());
    return fallback;
  }
  return v;
}

double BodyReader::number(const std::string& key, double fallback, double min) {
  if (!body_.contains(key)) {
    return fallback;
  }
  const json& v = body_[key];
  if (!v.is_number() || v.get<double>() < min) {
    problem(key,
            "expected a number >= " + json(min).dump() + ", got " + v.dump());
    return fallback;
  }
  return v;
}

json BodyReader::object(const std::string& key) {
  if (!body_.contains(key)) {
    return json::object();
  }
  if (!body_[key].is_object()) {
    problem(key, "expected an object, got " + body_[key].dump());
    return json::object();
  }
  return body_[key];
}

void BodyReader::merge(const BodyReader& inner) {
  problems_.insert(
      problems_.end(), inner.problems_.begin(), inner.problems_.end());
}

void BodyReader::finish() const {
  if (problems_.empty()) {
    return;
  }
  std::string message;
  for (const std::string& p : problems_) {
    message += (message.empty() ? "" : "\n") + p;
  }
  fail(ErrorCode::invalid_config, message);
}

} // namespace mlxt::server
