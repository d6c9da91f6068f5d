// scenarios/kibray.kload for k6, with the waits removed: bench/kibray.sh's k6 side.
//
//   k6 run -e BASE=http://127.0.0.1:PORT -e USERS=50 -e DURATION=10s -e SUMMARY=out.json bench/kibray_k6.js
//
// The same three classes as bench/kibray-nowait.kload, one k6 scenario (constant-vus executor) each,
// with the VUs split by the classes' weights 10:1:2 as Locust and kload split users (50 -> 38, 4, 8);
// the same tasks and task weights (one weighted pick per iteration), requests, names (the `name` tag),
// JSON bodies, captures and checks. kload's semantics are followed where k6 leaves a choice:
// `on start` runs in a VU's first iteration; checks are evaluated in order and the first that fails
// fails the request; captures are taken after the checks whatever the status, and one that finds
// nothing keeps the previous value; Authorization is sent once `token` is set; Accept: application/json
// on every request; the 200 KB image is 200,000 random bytes read once per VU in the init context.
//
// Differences that could not be avoided:
// - JSONPath is k6's own gjson selector (`res.json("results.#.id")` for `$.results[*].id`);
// - `seq()` cannot be one counter shared by all VUs: it is VU id * 1,000,000 + a per-VU counter;
// - `unique` accounts: a VU takes the row of its test-wide VU id (accounts) or of its id modulo 20
//   (admins); k6 numbers VUs per scenario in order, so the admin VUs' ids are consecutive and distinct;
// - a request whose template cannot be rendered (variable never captured) is not sent, as in kload,
//   but k6 has no request to count: it is a failed check `template` instead;
// - a failed kload check is a failed request; in k6 a failed check does not fail the request
//   (http_req_failed counts statuses >= 400 only), so "failures" here are failed checks
//   (the `checks` metric's fails) plus http_req_failed for requests without a status check.
import http from "k6/http";
import { check } from "k6";
import { SharedArray } from "k6/data";
import exec from "k6/execution";
import { Counter } from "k6/metrics";

const BASE = __ENV.BASE || "http://127.0.0.1:8000";
const API = `${BASE}/api/v1`;
const USERS = parseInt(__ENV.USERS || "50", 10);
const DURATION = __ENV.DURATION || "10s";
const DATA = __ENV.KIBRAY_DATA || "../scenarios/data";

function csv(path) {
  const [head, ...lines] = open(path).trim().split("\n");
  const keys = head.trim().split(",");
  return lines.map((l) => {
    const v = l.trim().split(",");
    return Object.fromEntries(keys.map((k, i) => [k, v[i]]));
  });
}
// Responses with status 429 (the demo target's per-account throttle), for bench/kibray.sh.
const status429 = new Counter("status_429");
const accounts = new SharedArray("accounts", () => csv(`${DATA}/accounts.csv`));
const admins = new SharedArray("admins", () => csv(`${DATA}/admins.csv`));

// Users split by class weight, largest remainder (Locust's and kload's split: 50 -> 38, 4, 8).
const WEIGHTS = { kibray: 10, admin: 1, apionly: 2 };
function split(n) {
  const total = Object.values(WEIGHTS).reduce((a, b) => a + b, 0);
  const exact = Object.entries(WEIGHTS).map(([k, w]) => [k, (n * w) / total]);
  const out = Object.fromEntries(exact.map(([k, x]) => [k, Math.floor(x)]));
  let left = n - Object.values(out).reduce((a, b) => a + b, 0);
  for (const [k] of exact.sort((a, b) => (b[1] % 1) - (a[1] % 1))) {
    if (left-- <= 0) break;
    out[k] += 1;
  }
  return out;
}
const VUS = split(USERS);
function scenario(fn, vus) {
  return { executor: "constant-vus", exec: fn, vus, duration: DURATION, gracefulStop: "5s" };
}
export const options = {
  scenarios: Object.fromEntries(
    [
      ["KibrayUser", "kibrayUser", VUS.kibray],
      ["AdminUser", "adminUser", VUS.admin],
      ["APIOnlyUser", "apiOnlyUser", VUS.apionly],
    ]
      .filter(([, , vus]) => vus > 0)
      .map(([name, fn, vus]) => [name, scenario(fn, vus)]),
  ),
  summaryTrendStats: ["avg", "min", "med", "max", "p(95)", "p(99)"],
};

// Per-VU state (each VU has its own copy of this module).
let started = false;
let token = null;
const vars = {};
let seqN = 0;
// `random 200KB`: 200,000 random bytes, made once. bench/kibray.sh writes them to a file (IMAGE), since
// filling them in JavaScript costs every VU ~0.2 s of CPU at start; without IMAGE they are made here.
const IMAGE = __ENV.IMAGE
  ? open(__ENV.IMAGE, "b")
  : (() => {
      const b = new Uint8Array(200000);
      for (let i = 0; i < b.length; i++) b[i] = (Math.random() * 256) | 0;
      return b.buffer;
    })();

const seq = () => exec.vu.idInTest * 1000000 + ++seqN;
const choice = (xs) => xs[Math.floor(Math.random() * xs.length)];
const today = () => new Date().toISOString().slice(0, 10);

function headers(extra) {
  const h = { Accept: "application/json", ...extra };
  if (token !== null) h.Authorization = `Bearer ${token}`;
  return h;
}

function json(res, selector) {
  try {
    return res.json(selector);
  } catch (e) {
    return undefined; // not JSON: the capture finds nothing
  }
}

// One request: the status check, then the other checks, in kload's order; returns the response.
function call(method, path, name, status, { body = null, contentType = null, exists = null, maxMs = null } = {}) {
  let payload = body;
  const extra = {};
  if (body !== null && contentType === null) {
    payload = JSON.stringify(body);
    extra["Content-Type"] = "application/json";
  } else if (contentType === "multipart") {
    payload = body; // an object with http.file(): k6 builds multipart/form-data
  }
  const res = http.request(method, `${API}${path}`, payload, { headers: headers(extra), tags: { name } });
  if (res.status === 429) status429.add(1);
  const statusOk = check(res, { [`status ${status}`]: (r) => r.status === status });
  if (statusOk && exists !== null) {
    check(res, { [`jsonpath $.${exists} exists`]: (r) => json(r, exists) !== undefined });
  }
  if (statusOk && maxMs !== null) {
    check(res, { [`duration < ${maxMs} ms`]: (r) => r.timings.duration < maxMs });
  }
  return res;
}

function templateError(variable) {
  check(null, { [`template: ${variable} set`]: () => false });
}

// `capture VAR = jsonpath "$.results[*].id" all`: an empty list when nothing matches in a JSON body.
function captureAll(res, variable) {
  const ids = json(res, "results.#.id");
  if (ids !== undefined) vars[variable] = ids;
  else if (json(res, "@this") !== undefined) vars[variable] = [];
}
// `... random`: one of them, or the previous value when there is none.
function captureRandom(res, variable) {
  const ids = json(res, "results.#.id");
  if (Array.isArray(ids) && ids.length > 0) vars[variable] = choice(ids);
}

function login(row) {
  const res = call("POST", "/auth/login/", "login", 200, { body: { username: row.username, password: row.password } });
  const access = json(res, "access");
  if (access !== undefined) token = access;
}

function projectIds() {
  const ids = vars.project_ids;
  if (!ids || ids.length === 0) {
    templateError("project_ids");
    return null;
  }
  return choice(ids);
}

// Weighted pick, once per iteration (kload's and Locust's task choice).
function pick(tasks) {
  const total = tasks.reduce((a, [w]) => a + w, 0);
  let r = Math.random() * total;
  for (const [w, f] of tasks) {
    if ((r -= w) < 0) return f;
  }
  return tasks[tasks.length - 1][1];
}

const kibrayTasks = [
  [3, () => call("GET", "/bi/kpis/", "/api/v1/bi/kpis/", 200)],
  [5, () => call("GET", "/projects/?page=1", "/api/v1/projects/", 200, { exists: "results" })],
  [2, () => {
    const id = projectIds();
    if (id !== null) call("GET", `/projects/${id}/`, "/api/v1/projects/[id]/", 200, { exists: "id" });
  }],
  [4, () => {
    const id = projectIds();
    if (id !== null) call("GET", `/tasks/?project=${id}`, "/api/v1/tasks/", 200);
  }],
  [1, () => {
    const id = projectIds();
    if (id === null) return;
    call("POST", "/tasks/", "/api/v1/tasks/", 201, {
      body: {
        title: `Load test task ${seq()}`,
        project: id,
        status: "Pending",
        priority: choice(["low", "medium", "high", "urgent"]),
      },
    });
  }],
  [2, () => call("GET", "/time-entries/", "/api/v1/time-entries/", 200)],
  [1, () => {
    const id = projectIds();
    if (id === null) return;
    call("POST", "/time-entries/", "/api/v1/time-entries/", 201, {
      body: { employee: parseInt(vars.account.employee, 10), project: id, date: today(), start_time: "08:00" },
    });
  }],
  [2, () => call("GET", "/schedule/items/", "/api/v1/schedule/items/", 200)],
  [1, () => call("GET", `/search/?q=${choice(["roof", "kitchen", "paint", "drywall"])}`, "/api/v1/search/", 200)],
  [1, () => call("GET", "/bi/kpis/?period=month", "/api/v1/bi/kpis/ (analytics)", 200)],
];

export function kibrayUser() {
  if (!started) {
    started = true;
    vars.account = accounts[(exec.vu.idInTest - 1) % accounts.length];
    login(vars.account);
    captureAll(call("GET", "/projects/", "/api/v1/projects/", 200), "project_ids");
  }
  pick(kibrayTasks)();
}

const adminTasks = [
  [2, () => call("GET", "/dashboards/admin/", "/api/v1/dashboards/admin/", 200)],
  [1, () => call("GET", "/tasks/?page_size=500", "/api/v1/tasks/ (export)", 200, { maxMs: 5000 })],
  [1, () => call("GET", "/bi/kpis/?detail=full", "/api/v1/bi/kpis/ (detailed)", 200)],
  [1, () => {
    captureAll(call("GET", "/tasks/?status=Under+Review", "/api/v1/tasks/", 200), "review_ids");
    if (vars.review_ids && vars.review_ids.length > 0) {
      call("POST", "/tasks/bulk-update/", "/api/v1/tasks/bulk-update/", 200, {
        body: { task_ids: vars.review_ids, action: "status", value: "Completed" },
      });
    }
  }],
];

export function adminUser() {
  if (!started) {
    started = true;
    login(admins[(exec.vu.idInTest - 1) % admins.length]);
  }
  pick(adminTasks)();
}

const apiOnlyTasks = [
  [5, () => captureRandom(call("GET", "/tasks/?page_size=50", "/api/v1/tasks/", 200), "task_id")],
  [3, () => {
    captureRandom(call("GET", "/tasks/", "/api/v1/tasks/", 200), "task_id");
    if (vars.task_id === undefined) {
      templateError("task_id");
      return;
    }
    call("PATCH", `/tasks/${vars.task_id}/`, "/api/v1/tasks/[id]/", 200, {
      body: { status: choice(["In Progress", "Under Review", "Completed"]) },
    });
  }],
  [1, () => {
    const id = projectIds();
    if (id === null) return;
    call("POST", "/site-photos/", "/api/v1/site-photos/", 201, {
      contentType: "multipart",
      body: { project: String(id), caption: `Site photo ${seq()}`, image: http.file(IMAGE, "site.jpg", "image/jpeg") },
    });
  }],
  [1, () => call("GET", "/health/", "/api/v1/health/", 200)],
];

export function apiOnlyUser() {
  if (!started) {
    started = true;
    login(accounts[(exec.vu.idInTest - 1) % accounts.length]);
    captureAll(call("GET", "/projects/", "/api/v1/projects/", 200), "project_ids");
  }
  pick(apiOnlyTasks)();
}

// The summary as JSON for bench/kibray.sh (requests, failed checks, failed requests).
export function handleSummary(data) {
  const out = {};
  out[__ENV.SUMMARY || "stdout"] = JSON.stringify(data);
  return out;
}
