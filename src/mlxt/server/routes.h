// Route groups that app.cpp assembles into each listener's table.
#pragma once

#include <vector>

#include "mlxt/server/app.h"

namespace mlxt::server {

//! /v1/jobs...
std::vector<Route> job_routes(AppContext& app);
//! /v1/optimizers..., /v1/models...
std::vector<Route> catalogue_routes(AppContext& app);
//! /v1/datasets/validate, /convert, /stats
std::vector<Route> dataset_routes(AppContext& app);
//! POST /v1/auto-config
std::vector<Route> auto_config_routes(AppContext& app);
//! GET /: the dashboard page
std::vector<Route> dashboard_routes();
//! /v1/pipelines..., /v1/templates...
std::vector<Route> pipeline_routes(AppContext& app);

} // namespace mlxt::server
