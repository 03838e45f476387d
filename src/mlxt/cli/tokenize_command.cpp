// mlxt tokenize --model DIR TEXT [--no_special]: prints the token ids of
// TEXT and the text of each token, one JSON list per line.
#include <iostream>

#include "mlxt/cli/commands.h"
#include "mlxt/tokenizer/tokenizer.h"

namespace mlxt::cli {

void add_tokenize_command(CLI::App& app) {
  struct Options {
    std::string model;
    std::string text;
    bool no_special = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd =
      app.add_subcommand("tokenize", "Print the token ids and pieces of TEXT");
  cmd->add_option("--model", o->model, "Model folder")->required();
  cmd->add_option("text", o->text, "Text to encode")->required();
  cmd->add_flag("--no_special",
                o->no_special,
                "Do not add the BOS/EOS the tokenizer config asks for");
  cmd->callback([o] {
    auto tok = tokenizer::Tokenizer::load(o->model);
    std::vector<int> ids = tok.encode(o->text, !o->no_special);
    nlohmann::json pieces = nlohmann::json::array();
    for (int id : ids) {
      pieces.push_back(tok.decode({id}, false));
    }
    std::cout << "ids: " << nlohmann::json(ids).dump() << "\n"
              << "tokens: " << pieces.dump() << "\n";
  });
}

} // namespace mlxt::cli
