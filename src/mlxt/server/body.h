// Reading a JSON request body against the keys its route accepts. Every
// problem (an unknown key, with a did-you-mean; a wrong type; a missing or
// out-of-range value) is collected, and finish() reports them together as
// Error(invalid_config), one per line, as the training config does.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlxt::server {

class BodyReader {
public:
  //! `keys`: every key the route accepts. `where` prefixes each problem's
  //! key, for an object inside a body ("schedule.").
  BodyReader(nlohmann::json body,
             std::vector<std::string> keys,
             std::string where = "");

  //! The string at `key`; "" (and a problem) when required and missing.
  std::string string(const std::string& key, bool required);
  bool boolean(const std::string& key, bool fallback);
  long integer(const std::string& key, long fallback, long min, long max);
  double number(const std::string& key, double fallback, double min);
  //! The object at `key` (an empty object when missing).
  nlohmann::json object(const std::string& key);
  bool has(const std::string& key) const { return body_.contains(key); }

  //! Takes the problems of `inner` (a reader of an object inside this
  //! body), so that finish() reports both.
  void merge(const BodyReader& inner);
  //! Throws Error(invalid_config) listing every problem found so far.
  void finish() const;

private:
  void problem(const std::string& key, const std::string& what);

  nlohmann::json body_;
  std::string where_;
  std::vector<std::string> problems_;
};

} // namespace mlxt::server
