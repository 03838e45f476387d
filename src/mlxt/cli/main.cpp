// mlxt: the command-line entry point. Errors end in one message and a
// non-zero exit status; the library never exits on its own.
#include <iostream>

#include <mlx/mlx.h>

#include "mlxt/cli/commands.h"
#include "mlxt/cli/flag_spelling.h"
#include "mlxt/core/error.h"

namespace mx = mlx::core;

int main(int argc, char** argv) {
  CLI::App app{"mlxt: fine-tune Llama-family language models with MLX"};
  app.require_subcommand(1);
  // Every option of every subcommand (they copy these defaults when made)
  // shows its default value in --help.
  app.option_defaults()->always_capture_default();
  // Before the subcommand runs: CLI11 runs the app's option callbacks first.
  app.add_option_function<std::string>(
         "--device",
         [](const std::string& device) {
           auto wanted = device == "cpu" ? mx::Device::cpu : mx::Device::gpu;
           if (!mx::is_available(wanted)) {
             throw mlxt::Error(mlxt::ErrorCode::unsupported,
                               "--device " + device +
                                   ": this MLX build has no such device");
           }
           mx::set_default_device(wanted);
         },
         "cpu | gpu (default: the GPU when MLX has one)")
      ->check(CLI::IsMember({"cpu", "gpu"}));
  mlxt::cli::add_train_command(app);
  mlxt::cli::add_generate_command(app);
  mlxt::cli::add_init_model_command(app);
  mlxt::cli::add_eval_command(app);
  mlxt::cli::add_score_command(app);
  mlxt::cli::add_serve_command(app);
  mlxt::cli::add_jobs_command(app);
  mlxt::cli::add_data_command(app);
  mlxt::cli::add_convert_command(app);
  mlxt::cli::add_chat_template_command(app);
  mlxt::cli::add_tokenize_command(app);
  mlxt::cli::add_models_command(app);
  std::vector<std::string> args = mlxt::cli::underscore_flag_names(argc, argv);
  std::vector<const char*> arg_ptrs;
  for (const std::string& arg : args) {
    arg_ptrs.push_back(arg.c_str());
  }
  try {
    app.parse(static_cast<int>(arg_ptrs.size()), arg_ptrs.data());
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
