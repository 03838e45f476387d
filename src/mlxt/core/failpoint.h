// Failpoints: named places where a crash test can make the process die, to
// prove that what was written before survives (checkpoints, the job store).
//
// MLXT_FAILPOINTS="name:N[:TERM][,...]" makes the N-th hit (1-based) of the
// failpoint `name` send SIGKILL to the process itself: no destructor, flush
// or handler runs, as when the machine loses power or the OOM killer
// strikes. With ":TERM" it sends SIGTERM instead, as a supervisor asking for
// a graceful stop would. Unset, a failpoint costs one branch.
#pragma once

#include <string_view>

namespace mlxt {

//! Counts a hit of failpoint `name` and kills the process when the
//! environment asks for this hit.
void failpoint(std::string_view name);

} // namespace mlxt
