// Learning-rate schedules: pure functions of the step, usable both on the
// host (reporting) and inside a compiled step (as MLX ops on a step array).
#pragma once

#include <functional>

#include <mlx/mlx.h>

namespace mlxt::optim {

namespace mx = mlx::core;

//! A schedule maps a step (scalar array, updates done so far) to a float32
//! scalar learning rate.
using Schedule = std::function<mx::array(const mx::array& step)>;

Schedule constant_schedule(float value);
//! init + min(step, steps) * (end - init) / steps
Schedule linear_schedule(float init, float end, int steps);
//! end + 0.5 * (1 + cos(pi * min(step, steps) / steps)) * (init - end)
Schedule cosine_decay(float init, int steps, float end = 0.0f);
//! init * rate^step (MLX's exponential_decay)
Schedule exponential_decay(float init, float rate);
//! init * rate^floor(step / step_size) (MLX's step_decay)
Schedule step_decay(float init, float rate, int step_size);
//! end + (init - end) * (1 - min(step, steps) / steps)^power
Schedule polynomial_decay(float init, float end, int steps, float power = 1.0f);
//! `first` for step < boundary, then `second(step - boundary)`.
Schedule join_schedules(Schedule first, Schedule second, int boundary);
//! mlx-lm's warm-up: linear from warmup_init to the schedule's value at 0
//! over `warmup` steps, then `schedule` (joined at warmup + 1 as mlx-lm does).
Schedule with_warmup(Schedule schedule, int warmup, float warmup_init);

//! Evaluates `schedule` at integer `step` on the host.
float schedule_value(const Schedule& schedule, long step);

} // namespace mlxt::optim
