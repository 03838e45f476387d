// mlxt: the command-line entry point. Errors end in one message and a
// non-zero exit status; the library never exits on its own.
#include <iostream>

#include "mlxt/cli/commands.h"
#include "mlxt/core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"mlxt: fine-tune Llama-family language models with MLX"};
  app.require_subcommand(1);
  mlxt::cli::add_train_command(app);
  mlxt::cli::add_generate_command(app);
  mlxt::cli::add_init_model_command(app);
  mlxt::cli::add_eval_command(app);
  mlxt::cli::add_serve_command(app);
  mlxt::cli::add_jobs_command(app);
  mlxt::cli::add_data_command(app);
  mlxt::cli::add_convert_command(app);
  mlxt::cli::add_chat_template_command(app);
  mlxt::cli::add_tokenize_command(app);
  mlxt::cli::add_models_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const mlxt::Error& e) {
    std::cerr << "mlxt: error (" << mlxt::error_code_name(e.code())
              << "): " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "mlxt: internal error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
