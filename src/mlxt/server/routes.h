// Route groups that app.cpp assembles into each listener's table.
#pragma once

#include <vector>

#include "mlxt/server/app.h"

namespace mlxt::server {

//! /v1/jobs...
std::vector<Route> job_routes(AppContext& app);
//! /v1/optimizers..., /v1/models...
std::vector<Route> catalogue_routes(AppContext& app);
//! /v1/pipelines..., /v1/templates...
std::vector<Route> pipeline_routes(AppContext& app);

} // namespace mlxt::server
