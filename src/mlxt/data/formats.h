// Dataset formats: reading a row of a named format into a Record (with every
// problem named by key path and reason), writing a Record back out as a row
// of another format (refused, with the reason, when meaning would be lost),
// and column mapping (`instruction=question`).
//
// Row shapes:
//   alpaca      {instruction, input?, output | response, system?, history?}
//   sharegpt    {conversations: [{from, value}], system?, tools?}; from is
//               human, gpt, system, function_call or observation
//   messages    {messages: [{role, content, tool_calls?}], system?, tools?};
//               role is system, user, assistant or tool
//   completions {prompt, completion}
//   text        {text}
//   preference  {chosen, rejected} plus a prompt given as `prompt` (string
//               or messages), `conversations` (sharegpt), `messages`, or
//               alpaca columns; chosen/rejected are strings, messages,
//               sharegpt turns, or whole transcripts ("\n\nHuman: ...
//               \n\nAssistant: ...", as in HH-RLHF) whose shared beginning
//               is the prompt.
#pragma once

#include <map>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlxt/data/record.h"

namespace mlxt::data {

//! What is wrong with one row: `messages[3].role: unknown role "bot"`.
struct RowProblem {
  std::string key;    // JSON path in the row ("" for the whole row)
  std::string reason; // what is wrong, and what is allowed
};

//! A Record, or the first problem found in the row.
using ParseResult = std::variant<Record, RowProblem>;

//! Reads `row` (a JSON object) as `format`.
ParseResult parse_row(const nlohmann::json& row, Format format);

//! `row` as `format`, or the reason it cannot be written without losing
//! meaning (e.g. a multi-turn chat as alpaca).
std::variant<nlohmann::json, std::string> write_row(const Record& record,
                                                    Format format);

//! Column overrides: canonical key -> the dataset's column name.
using ColumnMap = std::map<std::string, std::string>;

//! Parses "instruction=question,output=answer" (also accepts one pair per
//! call, merged into `into`). Throws Error(invalid_config) naming the entry.
void parse_column_map(const std::string& spec, ColumnMap& into);

//! Renames the dataset's columns of `row` to the canonical keys, in place.
void apply_column_map(nlohmann::json& row, const ColumnMap& columns);

} // namespace mlxt::data
