// mlxt serve [--data_dir DIR] [--host H] [--framework_port P] ...
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>

#include "mlxt/cli/commands.h"
#include "mlxt/core/error.h"
#include "mlxt/server/app.h"

namespace mlxt::cli {

namespace {

// A random token written to `file` readable by its owner only.
std::string generate_token(const std::filesystem::path& file) {
  std::random_device rd;
  static const char digits[] = "0123456789abcdef";
  std::string token;
  for (int i = 0; i < 48; ++i) {
    token += digits[rd() & 15];
  }
  std::filesystem::create_directories(file.parent_path());
  int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || write(fd, token.data(), token.size()) !=
                    static_cast<ssize_t>(token.size())) {
    fail(ErrorCode::io, "cannot write the API token", {.file = file.string()});
  }
  fchmod(fd, 0600);
  close(fd);
  return token;
}

// The token in `file` (its first line): a token given as --api_token shows
// in `ps` to every user of the machine, a file or MLXT_API_TOKEN does not.
std::string read_token(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string token;
  if (!in || !std::getline(in, token)) {
    fail(ErrorCode::io,
         "cannot read the API token (--api_token_file)",
         {.file = file.string()});
  }
  token.erase(token.find_last_not_of(" \t\r") + 1);
  if (token.empty()) {
    fail(ErrorCode::invalid_config,
         "the API token file's first line is empty",
         {.file = file.string()});
  }
  return token;
}

} // namespace

void add_serve_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "serve",
      "Run the job server: Training Framework API and Unified Training "
      "Platform API");
  auto o = std::make_shared<server::ServeOptions>();
  auto generate = std::make_shared<bool>(false);
  auto token_file = std::make_shared<std::string>();
  auto allow_roots = std::make_shared<std::vector<std::string>>();
  cmd->add_option("--data_dir", o->data_dir, "Job store and run folders");
  cmd->add_option("--host", o->host, "Address to listen on");
  cmd->add_option("--framework_port",
                  o->framework_port,
                  "Training Framework API port (0: any free port)");
  cmd->add_option("--platform_port",
                  o->platform_port,
                  "Unified Training Platform API port (0: any free port)");
  cmd->add_option("--max_concurrent_jobs",
                  o->max_concurrent_jobs,
                  "Training jobs running at once (0: jobs queue, none start)")
      ->check(CLI::NonNegativeNumber);
  auto* token = cmd->add_option("--api_token",
                                o->token,
                                "Require this token on every request (env "
                                "MLXT_API_TOKEN; visible in `ps`: prefer the "
                                "environment or --api_token_file)")
                    ->envname("MLXT_API_TOKEN");
  cmd->add_option("--api_token_file",
                  *token_file,
                  "Require the token on this file's first line")
      ->excludes(token);
  cmd->add_flag("--generate_token",
                *generate,
                "Generate a token into <data_dir>/api_token (mode 0600)");
  cmd->add_option("--allow_host",
                  o->allowed_hosts,
                  "Host header names accepted besides loopback names");
  cmd->add_option("--allow_root",
                  *allow_roots,
                  "Folders requests may name besides the data directory");
  cmd->add_option("--hub_url",
                  o->hub_url,
                  "Model hub for POST /v1/models/download (default: "
                  "$HF_ENDPOINT or https://huggingface.co; token from "
                  "$HF_TOKEN)");
  cmd->add_option(
      "--max_body_bytes", o->max_body_bytes, "Largest request body accepted");
  cmd->add_option("--max_connections_per_client",
                  o->max_connections_per_client,
                  "Connections one client address may hold open per "
                  "listener, streams included; past it: 503 (raise it "
                  "behind a proxy)")
      ->check(CLI::PositiveNumber);
  cmd->callback([o, generate, token_file, allow_roots] {
    for (const auto& r : *allow_roots) {
      o->allowed_roots.emplace_back(r);
    }
    if (!token_file->empty()) {
      o->token = read_token(*token_file);
    }
    if (*generate) {
      const auto file = o->data_dir / "api_token";
      o->token = generate_token(file);
      std::cout << "mlxt serve: API token written to " << file.string()
                << std::endl;
    }
    server::serve(*o);
  });
}

} // namespace mlxt::cli
