// swell's dashboard: one page, three views (#/ the cluster, #/jobs, #/job/ID, #/node/NAME),
// refreshed every few seconds from the head's JSON endpoints (src/web/dashboard.h).
"use strict";

const REFRESH_MS = 5000;
const NODES_PER_PAGE = 200;
const JOBS_PER_PAGE = 100;

// Everything users name (jobs, nodes, users) goes through esc: the page never runs their text.
function esc(v) {
  return String(v ?? "").replace(/[&<>"']/g, c =>
    ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
}
async function get(path) {
  const r = await fetch(path, {cache: "no-store"});
  if (!r.ok) throw new Error(path + ": " + r.status);
  return r.json();
}
function time(ms) { return Number(ms) ? new Date(Number(ms)).toLocaleString() : ""; }
function clock(ms) { return new Date(Number(ms)).toLocaleTimeString(); }
function since(ms, now) {
  if (!Number(ms)) return "";
  let s = Math.max(0, Math.round((now - Number(ms)) / 1000));
  const d = Math.floor(s / 86400); s %= 86400;
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const hms = [h, m, sec].map(x => String(x).padStart(2, "0")).join(":");
  return d ? d + "-" + hms : hms;
}
function money(v) { return Number(v || 0).toFixed(2); }
function table(id, head, rows) {
  const th = head.map(h => h.startsWith("#") ? `<th class="num">${esc(h.slice(1))}</th>`
                                            : `<th>${esc(h)}</th>`).join("");
  const body = rows.length ? rows.map(r => "<tr>" + r.map((c, i) =>
      head[i].startsWith("#") ? `<td class="num">${c}</td>` : `<td>${c}</td>`).join("") + "</tr>").join("")
    : `<tr><td colspan="${head.length}" class="muted">none</td></tr>`;
  document.getElementById(id).innerHTML = `<thead><tr>${th}</tr></thead><tbody>${body}</tbody>`;
}
function state(s) { return `<span class="state-${esc(s)}">${esc(s)}</span>`; }
function jobLink(id) { return `<a href="#/job/${esc(id)}">${esc(id)}</a>`; }
function nodeLinks(list) {
  return String(list || "").split(",").filter(Boolean)
    .map(n => `<a href="#/node/${encodeURIComponent(n)}">${esc(n)}</a>`).join(", ");
}
function sum(m) { return Object.values(m || {}).reduce((a, b) => a + b, 0); }

// ---- the cluster view ----
const charts = {};
function lineChart(id, datasets, labels) {
  // What is drawn, where a test (or a person with the inspector) can read it.
  const canvas = document.getElementById(id);
  canvas.dataset.points = labels.length;
  canvas.dataset.series = datasets.map(d => d.label).join(",");
  if (!window.Chart) return;
  if (!charts[id]) {
    charts[id] = new Chart(document.getElementById(id), {
      type: "line",
      data: {labels, datasets},
      options: {animation: false, responsive: true, maintainAspectRatio: false,
                elements: {point: {radius: 0}}, interaction: {intersect: false, mode: "index"},
                scales: {x: {ticks: {maxTicksLimit: 8}}, y: {beginAtZero: true}}},
    });
    return;
  }
  const c = charts[id];
  c.data.labels = labels;
  c.data.datasets = datasets;
  c.update();
}
const palette = ["#2563eb", "#d97706", "#059669", "#dc2626", "#7c3aed", "#0891b2", "#65a30d"];
function series(label, data, i, dashed) {
  const color = palette[i % palette.length];
  return {label, data, borderColor: color, backgroundColor: color, borderWidth: 2,
          borderDash: dashed ? [5, 4] : [], stepped: true};
}

let nodesPage = 0;
async function showCluster() {
  const [o, s, nodes] = await Promise.all([get("/api/overview"), get("/api/series"),
                                           get("/api/nodes")]);
  const now = Number(o.now_ms);
  const pending = sum((o.jobs || {}).PENDING), running = sum((o.jobs || {}).RUNNING);
  let up = 0, booting = 0;
  for (const states of Object.values(o.nodes || {}))
    for (const [st, n] of Object.entries(states)) {
      if (["IDLE", "MIXED", "ALLOCATED", "DRAINING"].includes(st)) up += n;
      if (["REQUESTED", "BOOTING"].includes(st)) booting += n;
    }
  const cards = [["pending jobs", pending], ["running jobs", running], ["nodes up", up],
                 ["nodes booting", booting], ["cpus in use", `${o.cpus_used} / ${o.cpus}`],
                 ["cost so far", money(o.cost)], ["cost per hour", money(o.cost_per_hour)]];
  document.getElementById("cards").innerHTML = cards.map(([l, v]) =>
    `<div class="card"><div class="value">${esc(v)}</div><div class="label">${esc(l)}</div></div>`).join("");

  const labels = (s.t || []).map(clock);
  lineChart("chart-jobs", [series("pending", s.pending, 1), series("running", s.running, 0)], labels);
  const nodeSets = [];
  Object.keys(s.nodes_up || {}).forEach((type, i) => {
    nodeSets.push(series(`${type || "static"} up`, s.nodes_up[type], i));
    nodeSets.push(series(`${type || "static"} booting`, s.nodes_booting[type], i, true));
  });
  lineChart("chart-nodes", nodeSets, labels);
  lineChart("chart-cost", [series("cost so far", s.cost, 2),
                           series("cost per hour", s.cost_per_hour, 3, true)], labels);

  const byType = [];
  for (const [type, states] of Object.entries(o.nodes || {}))
    for (const [st, n] of Object.entries(states)) byType.push([esc(type || "(static)"), state(st), n]);
  table("nodes-by-type", ["type", "state", "#nodes"], byType);
  const queue = [];
  for (const [st, parts] of Object.entries(o.jobs || {}))
    for (const [p, n] of Object.entries(parts)) queue.push([state(st), esc(p || "(default)"), "", n]);
  for (const [reason, n] of Object.entries(o.pending_reasons || {}))
    queue.push([state("PENDING"), "", esc(reason), n]);
  table("queue", ["state", "partition", "reason", "#jobs"], queue);

  document.getElementById("running-count").textContent =
    o.running_jobs > o.running.length ? `(first ${o.running.length} of ${o.running_jobs})` : "";
  table("running", ["job", "name", "user", "partition", "nodes", "#tasks", "elapsed"],
        (o.running || []).map(r => [jobLink(r.id), esc(r.name), esc(r.user), esc(r.partition),
                                    nodeLinks(r.nodes), r.tasks_running, since(r.start_ms, now)]));

  const list = nodes.nodes || [];
  const pages = Math.max(1, Math.ceil(list.length / NODES_PER_PAGE));
  nodesPage = Math.min(nodesPage, pages - 1);
  document.getElementById("node-count").textContent = `(${list.length})`;
  table("nodes", ["node", "type", "state", "#cpus used", "#cpus", "#memory MB"],
        list.slice(nodesPage * NODES_PER_PAGE, (nodesPage + 1) * NODES_PER_PAGE).map(n =>
          [nodeLinks(n.name), esc(n.type || "(static)"), state(n.state), n.cpus_used, n.cpus, n.mem_mb]));
  document.getElementById("nodes-pager").innerHTML = pages > 1
    ? Array.from({length: pages}, (_, i) =>
        i === nodesPage ? `<b>${i + 1}</b>` : `<a href="#/" data-page="${i}">${i + 1}</a>`).join(" ")
    : "";
}
document.getElementById("nodes-pager").addEventListener("click", e => {
  const p = e.target.dataset && e.target.dataset.page;
  if (p !== undefined) { e.preventDefault(); nodesPage = Number(p); refresh(); }
});

let usageAt = 0;
async function showUsage() {
  if (Date.now() - usageAt < 30000) return;  // the whole history is read: not every refresh
  usageAt = Date.now();
  const u = await get("/api/usage");
  table("usage", ["user", "#jobs", "#tasks", "#node-hours", "#cost"],
        Object.entries(u.users || {}).map(([name, v]) =>
          [esc(name), v.jobs, v.tasks, Number(v.job_hours).toFixed(3), money(v.cost)]));
}

// ---- the jobs view ----
const jobPages = [0];  // the "after" id of each page shown so far
async function showJobs() {
  const st = document.getElementById("jobs-state").value;
  const after = jobPages[jobPages.length - 1];
  const r = await get(`/api/jobs?state=${encodeURIComponent(st)}&after=${after}&limit=${JOBS_PER_PAGE}`);
  const now = Date.now();
  table("jobs", ["job", "name", "user", "state", "partition", "reason / nodes", "#tasks", "submitted", "elapsed"],
        r.jobs.map(j => [jobLink(j.id), esc(j.name), esc(j.user), state(j.state), esc(j.partition),
                         j.state === "PENDING" ? esc(j.reason) : nodeLinks(j.nodes), j.tasks,
                         esc(time(j.submit_ms)), since(j.start_ms, now)]));
  document.getElementById("jobs-next").disabled = r.jobs.length < JOBS_PER_PAGE;
  document.getElementById("jobs-next").dataset.last = r.jobs.length ? r.jobs[r.jobs.length - 1].id : after;
}
document.getElementById("jobs-state").addEventListener("change", () => { jobPages.length = 1; refresh(); });
document.getElementById("jobs-first").addEventListener("click", () => { jobPages.length = 1; refresh(); });
document.getElementById("jobs-next").addEventListener("click", e => {
  jobPages.push(Number(e.target.dataset.last)); refresh();
});

// ---- one job, one node ----
async function showJob(id) {
  const j = await get(`/api/job/${encodeURIComponent(id)}`);
  const now = Date.now();
  document.getElementById("job-title").innerHTML = `Job ${esc(j.id)} <span class="muted">${esc(j.name)}</span>`;
  const spec = j.spec || {};
  const argv = (spec.argv || []).join(" ");
  table("job-fields", ["field", "value"], [
    ["state", state(j.state) + (j.reason ? ` <span class="muted">(${esc(j.reason)})</span>` : "")],
    ["user", esc(j.user)], ["partition", esc(j.partition)], ["nodes", nodeLinks((j.nodes || []).join(","))],
    ["submitted", esc(time(j.submit_ms))], ["started", esc(time(j.start_ms))],
    ["ended", esc(time(j.end_ms))], ["elapsed", Number(j.start_ms) ? since(j.start_ms, Number(j.end_ms) || now) : ""],
    ["exit code", Number(j.end_ms) ? `${esc(j.exit_code)}:${esc(j.signal)}` : ""],
    ["tasks", esc(j.task_count)], ["restarts", esc(j.restarts)],
    ["command", esc(argv || "(batch script)")], ["work dir", esc(spec.work_dir)],
    ["cpus per task", esc(spec.cpus_per_task)], ["memory MB", esc(spec.mem_mb)],
    ["time limit", spec.time_limit_ms && spec.time_limit_ms !== "0" ? esc(Number(spec.time_limit_ms) / 60000 + " min") : ""],
    ["output", esc(j.stdout_path)], ["error", esc(j.stderr_path)],
  ]);
  table("job-tasks", ["task", "state", "node", "#exit", "started", "ended"],
        (j.tasks || []).map(t => [esc(t.job_id), state(t.state), nodeLinks(t.node),
                                  Number(t.end_ms) ? esc(t.exit_code) : "",
                                  esc(time(t.start_ms)), esc(time(t.end_ms))]));
  table("job-steps", ["step", "name", "nodes", "#tasks", "started"],
        (j.steps || []).map(s => [esc(s.step_id), esc(s.name), nodeLinks((s.nodes || []).join(",")),
                                  esc(s.ntasks), esc(time(s.start_ms))]));
  document.getElementById("job-stdout").textContent = j.stdout_tail || "";
  document.getElementById("job-stderr").textContent = j.stderr_tail || "";
}

async function showNode(name) {
  const n = await get(`/api/node/${encodeURIComponent(name)}`);
  document.getElementById("node-title").innerHTML = `Node ${esc(n.name)}`;
  table("node-fields", ["field", "value"], [
    ["state", state(n.state)], ["type", esc(n.partition || "(static)")], ["phase", esc(n.phase)],
    ["host", esc(n.hostname)], ["cpus", `${esc(n.cpus_used)} used of ${esc(n.cpus)}`],
    ["memory MB", `${esc(n.mem_used_mb)} used of ${esc(n.mem_mb)}`],
    ["gpus", `${esc(n.gpus_used)} used of ${esc(n.gpus)}`],
    ["last heard", esc(time(n.last_seen_ms))], ["reason", esc(n.reason)],
  ]);
  const now = Date.now();
  table("node-running", ["job", "name", "user", "#tasks", "elapsed"],
        (n.running || []).map(r => [jobLink(r.id), esc(r.name), esc(r.user), r.tasks_running,
                                    since(r.start_ms, now)]));
}

// ---- routing and refresh ----
function route() {
  const h = location.hash.replace(/^#\/?/, "");
  const [view, arg] = h.split("/");
  for (const id of ["cluster-page", "jobs-page", "job-page", "node-page"])
    document.getElementById(id).hidden = true;
  if (view === "job" && arg) return ["job-page", () => showJob(decodeURIComponent(arg))];
  if (view === "node" && arg) return ["node-page", () => showNode(decodeURIComponent(arg))];
  if (view === "jobs") return ["jobs-page", showJobs];
  return ["cluster-page", async () => { await showCluster(); await showUsage(); }];
}
let timer = null;
async function refresh() {
  clearTimeout(timer);
  const [page, show] = route();
  document.getElementById(page).hidden = false;
  const status = document.getElementById("status");
  try {
    await show();
    status.textContent = "updated " + new Date().toLocaleTimeString();
  } catch (e) {
    status.textContent = "cannot reach the head: " + e.message;
  }
  timer = setTimeout(refresh, REFRESH_MS);
}
window.addEventListener("hashchange", () => { usageAt = 0; refresh(); });
refresh();
