// Graceful stop: SIGTERM or SIGINT asks the training loop to write a
// checkpoint at the next step boundary and return; the CLI then exits with
// kStoppedExitStatus so a supervisor (the job server) can tell a stop from a
// completion or a failure.
#pragma once

namespace mlxt::train {

//! Exit status of `mlxt train` after a graceful stop (EX_TEMPFAIL).
inline constexpr int kStoppedExitStatus = 75;

//! Installs the SIGTERM/SIGINT handlers (async-signal-safe: they set a
//! flag). A second signal while stopping is not special: the loop is
//! already on its way out.
void install_stop_handlers();

//! True once a stop was requested (by a signal or request_stop()).
bool stop_requested();

//! Asks the loop to stop, as a signal would (for embedding and tests).
void request_stop();

} // namespace mlxt::train
