// GET /: the dashboard, one static page embedded here. It lists jobs with
// their state, progress and latest loss, follows running jobs through
// GET /v1/jobs/{id}/events, and stops or resumes them. It holds no data:
// it asks for the API token when the server answers 401 and sends it as a
// Bearer header (kept in the tab's sessionStorage).
#include "mlxt/server/routes.h"

namespace mlxt::server {

namespace {

constexpr const char* kPage = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>mlx-train jobs</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #ddd; }
.bar { background: #eee; width: 160px; height: 10px; }
.bar div { background: #3a7; height: 10px; }
#token { display: none; margin-bottom: 1em; }
.failed { color: #b22; } .completed { color: #292; } .running { color: #26b; }
</style>
</head>
<body>
<h1>mlx-train jobs</h1>
<form id="token">This server needs its API token:
  <input id="token-value" type="password" size="40">
  <button>Use</button></form>
<p id="status"></p>
<table>
<thead><tr><th>job</th><th>kind</th><th>state</th><th>progress</th>
<th>latest loss</th><th>reason</th><th></th></tr></thead>
<tbody id="jobs"></tbody>
</table>
<script>
"use strict";
const API = { list: "/v1/jobs", job: "/v1/jobs/", events: "/events",
              stop: "/stop", resume: "/resume" };
let token = sessionStorage.getItem("mlxt-token") || "";
const following = new Set();

function headers(extra) {
  const h = Object.assign({}, extra || {});
  if (token) h["Authorization"] = "Bearer " + token;
  return h;
}

async function api(path, options) {
  const r = await fetch(path, Object.assign({ headers: headers(
      options && options.body ? { "Content-Type": "application/json" } : {}) },
      options || {}));
  if (r.status === 401) {
    document.getElementById("token").style.display = "block";
    throw new Error("the API token is needed");
  }
  return r.json();
}

function text(value) { return document.createTextNode(value == null ? "" : String(value)); }

function row(job) {
  const id = "job-row-" + job.id;
  let tr = document.getElementById(id);
  if (!tr) {
    tr = document.createElement("tr");
    tr.id = id;
    document.getElementById("jobs").appendChild(tr);
  }
  const p = job.progress || {};
  const fraction = p.fraction || 0;
  const loss = p.latest_train ? p.latest_train.loss.toFixed(4) : "";
  tr.replaceChildren();
  const cells = [job.id, job.kind, job.state, null, loss, job.reason, null];
  cells.forEach((value, i) => {
    const td = document.createElement("td");
    if (i === 2) td.className = job.state;
    if (i === 3) {
      const bar = document.createElement("div");
      bar.className = "bar";
      const fill = document.createElement("div");
      fill.style.width = Math.round(fraction * 100) + "%";
      bar.appendChild(fill);
      td.appendChild(bar);
      td.appendChild(text(p.step != null ? p.step + "/" + p.total_steps
                                         : Math.round(fraction * 100) + "%"));
    } else if (i === 6) {
      for (const action of ["stop", "resume"]) {
        const b = document.createElement("button");
        b.textContent = action;
        b.onclick = () => api(API.job + job.id + API[action],
                              { method: "POST" }).then(refresh);
        td.appendChild(b);
      }
    } else {
      td.appendChild(text(value));
    }
    tr.appendChild(td);
  });
}

// Server-sent events through fetch, so the token can go in a header.
async function follow(id) {
  if (following.has(id)) return;
  following.add(id);
  try {
    const r = await fetch(API.job + id + API.events, { headers: headers() });
    const reader = r.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block.startsWith("event: metrics") || block.startsWith("event: state") ||
            block.startsWith("event: end")) {
          row(await api(API.job + id));
        }
      }
    }
  } finally {
    following.delete(id);
  }
}

async function refresh() {
  try {
    const page = await api(API.list + "?limit=200");
    for (const summary of page.jobs) {
      const job = await api(API.job + summary.id);
      row(job);
      if (job.state === "running" || job.state === "stopping") follow(job.id);
    }
    document.getElementById("status").textContent =
        page.total + " jobs; updated " + new Date().toLocaleTimeString();
  } catch (e) {
    document.getElementById("status").textContent = e.message;
  }
}

document.getElementById("token").onsubmit = (e) => {
  e.preventDefault();
  token = document.getElementById("token-value").value;
  sessionStorage.setItem("mlxt-token", token);
  document.getElementById("token").style.display = "none";
  refresh();
};
refresh();
setInterval(refresh, 5000);
</script>
</body>
</html>
)html";

} // namespace

std::vector<Route> dashboard_routes() {
  Route page{"GET",
             "/",
             "The dashboard: an HTML page listing jobs (no data; it asks for "
             "the API token when one is needed)",
             [](const Request&) {
               Response r;
               r.content_type = "text/html; charset=utf-8";
               r.body = kPage;
               // The page's own inline script and style and requests to this
               // server only; never inside another site's frame.
               r.headers = {{"Content-Security-Policy",
                             "default-src 'none'; script-src 'unsafe-inline'; "
                             "style-src 'unsafe-inline'; connect-src 'self'; "
                             "frame-ancestors 'none'; base-uri 'none'; "
                             "form-action 'none'"},
                            {"X-Frame-Options", "DENY"},
                            {"X-Content-Type-Options", "nosniff"}};
               return r;
             }};
  page.public_route = true;
  return {page};
}

} // namespace mlxt::server
