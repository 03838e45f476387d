// Formats: each row shape normalised to a Record, detection with its reason,
// conversion that keeps meaning (round trips) and refuses what would lose it.
#include <gtest/gtest.h>

#include "mlxt/data/convert.h"
#include "mlxt/data/detect.h"
#include "mlxt/data/formats.h"
#include "support/test_support.h"

namespace {

using mlxt::data::Format;
using mlxt::data::Record;
using nlohmann::json;

Record parse(const json& row, Format f) {
  auto r = mlxt::data::parse_row(row, f);
  if (auto* p = std::get_if<mlxt::data::RowProblem>(&r)) {
    ADD_FAILURE() << p->key << ": " << p->reason;
    return {};
  }
  return std::get<Record>(r);
}

std::string problem(const json& row, Format f) {
  auto r = mlxt::data::parse_row(row, f);
  auto* p = std::get_if<mlxt::data::RowProblem>(&r);
  return p ? p->key + ": " + p->reason : "";
}

json written(const Record& r, Format f) {
  auto w = mlxt::data::write_row(r, f);
  if (auto* why = std::get_if<std::string>(&w)) {
    ADD_FAILURE() << *why;
    return nullptr;
  }
  return std::get<json>(w);
}

std::string refusal(const Record& r, Format f) {
  auto w = mlxt::data::write_row(r, f);
  auto* why = std::get_if<std::string>(&w);
  return why ? *why : "";
}

bool same(const Record& a, const Record& b) {
  if (a.messages.size() != b.messages.size() || a.tools != b.tools) {
    return false;
  }
  for (size_t i = 0; i < a.messages.size(); ++i) {
    const auto &x = a.messages[i], &y = b.messages[i];
    if (x.role != y.role || x.content != y.content ||
        x.tool_calls.size() != y.tool_calls.size()) {
      return false;
    }
    for (size_t c = 0; c < x.tool_calls.size(); ++c) {
      if (x.tool_calls[c].name != y.tool_calls[c].name ||
          x.tool_calls[c].arguments != y.tool_calls[c].arguments) {
        return false;
      }
    }
  }
  return true;
}

TEST(DataFormats, AlpacaWithInputSystemAndHistory) {
  Record r = parse({{"instruction", "Add"},
                    {"input", "1 and 2"},
                    {"response", "3"},
                    {"system", "Be brief."},
                    {"history", json::array({json::array({"hi", "hello"})})}},
                   Format::alpaca);
  ASSERT_EQ(r.messages.size(), 5u);
  EXPECT_EQ(r.messages[0].role, "system");
  EXPECT_EQ(r.messages[1].content, "hi");
  EXPECT_EQ(r.messages[3].content, "Add\n\n1 and 2");
  EXPECT_EQ(r.messages[4].content, "3");
}

TEST(DataFormats, ShareGptWithToolsMapsRoles) {
  json row = {{"conversations",
               {{{"from", "human"}, {"value", "weather?"}},
                {{"from", "function_call"},
                 {"value",
                  R"({"name": "get_weather", "arguments": {"city": "Oslo"}})"}},
                {{"from", "observation"}, {"value", "{\"t\": 3}"}},
                {{"from", "gpt"}, {"value", "3 degrees"}}}},
              {"tools", R"([{"name": "get_weather"}])"},
              {"system", "sys"}};
  Record r = parse(row, Format::sharegpt);
  ASSERT_EQ(r.messages.size(), 5u);
  EXPECT_EQ(r.messages[0].role, "system");
  EXPECT_EQ(r.messages[2].role, "assistant");
  ASSERT_EQ(r.messages[2].tool_calls.size(), 1u);
  EXPECT_EQ(r.messages[2].tool_calls[0].arguments["city"], "Oslo");
  EXPECT_EQ(r.messages[3].role, "tool");
  EXPECT_EQ(r.tools[0]["name"], "get_weather");
  // sharegpt -> messages -> sharegpt keeps every turn and call.
  Record back = parse(written(r, Format::messages), Format::messages);
  EXPECT_TRUE(same(r, back));
  EXPECT_TRUE(
      same(r, parse(written(back, Format::sharegpt), Format::sharegpt)));
  EXPECT_NE(refusal(r, Format::alpaca).find("tool"), std::string::npos);
}

TEST(DataFormats, MessagesWithToolCallsAndTextParts) {
  json row = {
      {"system", "top"},
      {"messages",
       {{{"role", "user"},
         {"content",
          {{{"type", "text"}, {"text", "a"}},
           {{"type", "text"}, {"text", "b"}}}}},
        {{"role", "assistant"},
         {"content", nullptr},
         {"tool_calls",
          {{{"type", "function"},
            {"function", {{"name", "f"}, {"arguments", "{\"x\": 1}"}}}}}}},
        {{"role", "tool"}, {"content", "2"}},
        {{"role", "assistant"}, {"content", "done"}}}}};
  Record r = parse(row, Format::messages);
  ASSERT_EQ(r.messages.size(), 5u);
  EXPECT_EQ(r.messages[0].content, "top");
  EXPECT_EQ(r.messages[1].content, "ab");
  EXPECT_EQ(r.messages[2].tool_calls.at(0).arguments["x"], 1);
}

TEST(DataFormats, ProblemsNameTheKeyPath) {
  EXPECT_EQ(problem({{"messages",
                      {{{"role", "user"}, {"content", "a"}},
                       {{"role", "assistant"}, {"content", 3}}}}},
                    Format::messages),
            "messages[1].content: expected a string or a list of text parts, "
            "got number");
  EXPECT_EQ(problem({{"messages", {{{"role", "user"}, {"content", "a"}}}}},
                    Format::messages),
            "messages: no assistant turn: nothing to train on");
  EXPECT_EQ(problem({{"conversations",
                      {{{"from", "human"}, {"value", "a"}},
                       {{"from", "gpt"}, {"value", "b"}},
                       {{"from", "human"}, {"value", "c"}}}}},
                    Format::sharegpt),
            "conversations[2]: the last turn is \"user\"; a conversation must "
            "end with an assistant turn");
  EXPECT_EQ(problem({{"conversations", {{{"from", "bing"}, {"value", "a"}}}}},
                    Format::sharegpt),
            "conversations[0].from: unknown role \"bing\" (allowed: human, "
            "gpt, system, function_call, observation)");
  EXPECT_EQ(problem({{"instruction", "a"}}, Format::alpaca),
            "output: missing (alpaca rows need output or response)");
  EXPECT_EQ(problem({{"text", 5}}, Format::text),
            "text: expected a string, got number");
}

TEST(DataFormats, PreferenceShapes) {
  // Strings with a prompt.
  Record a = parse({{"prompt", "q"}, {"chosen", "good"}, {"rejected", "bad"}},
                   Format::preference);
  EXPECT_EQ(a.kind, Record::Kind::preference);
  EXPECT_EQ(a.messages.at(0).content, "q");
  EXPECT_EQ(a.chosen.at(0).content, "good");
  // HH-RLHF: whole transcripts; the shared beginning is the prompt.
  Record b = parse({{"chosen",
                     "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: joke?\n\n"
                     "Assistant: a good one"},
                    {"rejected",
                     "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: joke?\n\n"
                     "Assistant: no"}},
                   Format::preference);
  ASSERT_EQ(b.messages.size(), 3u);
  EXPECT_EQ(b.messages[2].content, "joke?");
  EXPECT_EQ(b.chosen.at(0).content, "a good one");
  EXPECT_EQ(b.rejected.at(0).content, "no");
  // Message lists that repeat the prompt.
  json user = {{"role", "user"}, {"content", "q"}};
  Record c =
      parse({{"chosen", {user, {{"role", "assistant"}, {"content", "y"}}}},
             {"rejected", {user, {{"role", "assistant"}, {"content", "n"}}}}},
            Format::preference);
  EXPECT_EQ(c.messages.size(), 1u);
  EXPECT_EQ(c.rejected.at(0).content, "n");
  // ShareGPT prompt with single-turn answers (LLaMA-Factory dpo).
  Record d = parse({{"conversations", {{{"from", "human"}, {"value", "q"}}}},
                    {"chosen", {{"from", "gpt"}, {"value", "y"}}},
                    {"rejected", {{"from", "gpt"}, {"value", "n"}}}},
                   Format::preference);
  EXPECT_EQ(d.chosen.at(0).content, "y");
  EXPECT_NE(refusal(d, Format::messages).find("two answers"),
            std::string::npos);
  Record e = parse(written(d, Format::preference), Format::preference);
  EXPECT_EQ(e.rejected.at(0).content, "n");
}

TEST(DataFormats, ConversionRefusesWhatItCannotHold) {
  Record multi = parse({{"messages",
                         {{{"role", "user"}, {"content", "a"}},
                          {{"role", "assistant"}, {"content", "b"}},
                          {{"role", "user"}, {"content", "c"}},
                          {{"role", "assistant"}, {"content", "d"}}}}},
                       Format::messages);
  EXPECT_NE(refusal(multi, Format::completions).find("exactly one user"),
            std::string::npos);
  // Multi-turn fits alpaca's history, and comes back the same.
  json alpaca = written(multi, Format::alpaca);
  EXPECT_EQ(alpaca["history"][0][1], "b");
  EXPECT_TRUE(same(multi, parse(alpaca, Format::alpaca)));
  Record text = parse({{"text", "t"}}, Format::text);
  EXPECT_NE(refusal(text, Format::messages).find("no prompt and answer"),
            std::string::npos);
  Record pair =
      parse({{"prompt", "a"}, {"completion", "b"}}, Format::completions);
  EXPECT_TRUE(same(
      pair, parse(written(pair, Format::completions), Format::completions)));
  EXPECT_TRUE(
      same(pair, parse(written(pair, Format::sharegpt), Format::sharegpt)));
}

TEST(DataFormats, ColumnMapRenames) {
  mlxt::data::ColumnMap columns;
  mlxt::data::parse_column_map("instruction=question,output=answer", columns);
  json row = {{"question", "q"}, {"answer", "a"}};
  mlxt::data::apply_column_map(row, columns);
  EXPECT_EQ(parse(row, Format::alpaca).messages.at(1).content, "a");
  EXPECT_MLXT_ERROR(mlxt::data::parse_column_map("instruction", columns),
                    invalid_config,
                    "expected key=column");
}

TEST(DataDetect, MajorityWithReason) {
  std::vector<json> rows = {{{"instruction", "a"}, {"output", "b"}},
                            {{"instruction", "a"}, {"output", "b"}},
                            {{"text", "t"}}};
  auto d = mlxt::data::detect_format(rows, "f");
  EXPECT_EQ(d.format, Format::alpaca);
  EXPECT_EQ(d.reason,
            "2 of 3 sampled rows have instruction and output (others look "
            "like text: 1)");
  EXPECT_EQ(mlxt::data::detect_format(
                {{{"messages", {{{"from", "human"}, {"value", "x"}}}}}}, "f")
                .format,
            Format::sharegpt);
  EXPECT_MLXT_ERROR(
      mlxt::data::detect_format({{{"question", "q"}, {"answer", "a"}}}, "f"),
      invalid_data,
      "cannot detect the format: the rows have keys {answer, question}");
}

TEST(DataConvert, FileConversionIsAtomicAndRefusesLoss) {
  mlxt::testing::TempDir dir;
  mlxt::testing::write_file(dir / "in.csv",
                            "instruction,input,output\nq,,a\nq2,x,a2\n");
  auto s = mlxt::data::convert_file(
      dir / "in.csv", dir / "out.jsonl", Format::messages);
  EXPECT_EQ(s.from, Format::alpaca);
  EXPECT_EQ(s.written, 2u);
  EXPECT_EQ(mlxt::testing::read_file(dir / "out.jsonl"),
            "{\"messages\":[{\"content\":\"q\",\"role\":\"user\"},{\"content\":"
            "\"a\",\"role\":\"assistant\"}]}\n{\"messages\":[{\"content\":\"q2"
            "\\n\\nx\",\"role\":\"user\"},{\"content\":\"a2\",\"role\":"
            "\"assistant\"}]}\n");
  EXPECT_MLXT_ERROR(
      mlxt::data::convert_file(
          mlxt::testing::bad_input("data/text_rows_cannot_be_alpaca.jsonl"),
          dir / "t_out.jsonl",
          Format::alpaca),
      unsupported,
      "text_rows_cannot_be_alpaca.jsonl:1: cannot convert text to alpaca "
      "without losing meaning");
  EXPECT_FALSE(std::filesystem::exists(dir / "t_out.jsonl"));
}

} // namespace
