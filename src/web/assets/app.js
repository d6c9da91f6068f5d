// kload's web UI: the start form, the live views and the controls. It reads /plan once and
// then one snapshot per second from the server-sent events of /events (polling /snapshot
// when the stream is unavailable), and acts through Locust's endpoints: POST /swarm,
// GET /stop, GET /stats/reset. Every text from the server goes through textContent.
'use strict';

const byId = (id) => document.getElementById(id);

const ui = {
  plan: null,
  snap: null,
  // The start form is shown in state `ready`, and after "New test" until a test starts.
  wantForm: false,
  tab: 'stats',
  sort: { key: null, dir: 1 },
  splitTimer: 0,
  renderPending: false,
  // A big statistics table is redrawn at most once a second, however fast snapshots come.
  statsDrawnAt: 0,
  statsTimer: 0,
};

const BIG_TABLE = 200;

const TABS = ['stats', 'charts', 'failures', 'errors', 'ratio', 'thresholds', 'download', 'logs'];

// ---------------------------------------------------------------- formatting

// One formatter per number of decimals: making one per call is what makes a 500-row table slow.
const numberFormats = new Map();
function fixed(x, digits) {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  let format = numberFormats.get(digits);
  if (!format) {
    format = new Intl.NumberFormat('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
    numberFormats.set(digits, format);
  }
  return format.format(x);
}

function pct(ratio) {
  return `${fixed(ratio * 100, ratio > 0 && ratio < 0.001 ? 3 : 1)}%`;
}

function dateTime(seconds) {
  if (!seconds) return '–';
  const d = new Date(seconds * 1000);
  const two = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

function clock(ms) {
  const s = Math.floor(ms / 1000);
  const two = (n) => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  return h > 0 ? `${h}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}` : `${two(Math.floor(s / 60))}:${two(s % 60)}`;
}

function duration(ms) {
  const s = Math.round(ms / 1000);
  if (s % 3600 === 0 && s >= 3600) return `${s / 3600}h`;
  if (s % 60 === 0 && s >= 60) return `${s / 60}m`;
  return `${s}s`;
}

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') node.className = v;
    else node.setAttribute(k, v);
  }
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function row(cells) {
  const tr = document.createElement('tr');
  for (const [text, cls] of cells) {
    const td = document.createElement('td');
    if (cls) td.className = cls;
    if (text instanceof Node) td.appendChild(text);
    else td.textContent = text;
    tr.appendChild(td);
  }
  return tr;
}

let toastTimer = 0;
function toast(message, isError) {
  const box = byId('toast');
  box.textContent = message;
  box.classList.toggle('error', !!isError);
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.textContent = ''; }, 6000);
}

// ---------------------------------------------------------------- server calls

async function getJSON(path) {
  const response = await fetch(path, { headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

// POST /swarm with a URL-encoded form; resolves to Locust's {success, message, host}.
async function swarm(params) {
  const response = await fetch('/swarm', { method: 'POST', body: params });
  let body = null;
  try { body = await response.json(); } catch (_) { body = null; }
  if (!body) return { success: false, message: `HTTP ${response.status}` };
  return body;
}

// ---------------------------------------------------------------- start form

function loadProfileText(plan) {
  const load = plan.load;
  if (load.kind === 'stages') {
    const box = document.createElement('div');
    box.appendChild(el('strong', {}, 'This scenario ramps in stages:'));
    const list = el('ol');
    let before = 0;
    for (const s of load.stages) {
      const what = s.users === before ? `hold ${s.users} users` : `ramp to ${s.users} users`;
      list.appendChild(el('li', {}, `${what} over ${duration(s.duration_ms)}`));
      before = s.users;
    }
    box.appendChild(list);
    return box;
  }
  if (load.kind === 'arrival_rate') {
    return el('div', {}, `This scenario starts ${fixed(load.rate, 3)} iterations per second, with at most ${load.max_users} users busy.`);
  }
  return null;
}

function renderPlan() {
  const plan = ui.plan;
  byId('scenario').textContent = `${plan.scenario} · ${plan.file}`;
  document.title = `kload · ${plan.scenario}`;
  const parts = [`${plan.classes.length} user class${plan.classes.length === 1 ? '' : 'es'}`];
  if (plan.thresholds.length) parts.push(`${plan.thresholds.length} threshold${plan.thresholds.length === 1 ? '' : 's'}`);
  byId('plan-summary').textContent = `${plan.scenario} (${plan.file}): ${parts.join(', ')}.`;
  byId('f-users').value = plan.users;
  byId('f-rate').value = plan.spawn_rate;
  byId('f-host').value = plan.host;
  byId('f-runtime').value = plan.run_time_ms ? duration(plan.run_time_ms) : '';
  const profile = loadProfileText(plan);
  byId('profile').hidden = !profile;
  if (profile) byId('profile-text').replaceChildren(profile);
  byId('edit-rule').textContent = plan.edit_rule;

  const totalWeight = plan.classes.filter((c) => c.fixed_count === null).reduce((a, c) => a + c.weight, 0) || 1;
  const tbody = byId('classes-table').tBodies[0];
  tbody.replaceChildren();
  for (const c of plan.classes) {
    const box = el('input', { type: 'checkbox', 'aria-label': `Run ${c.name}` });
    box.checked = true;
    box.dataset.class = c.name;
    box.addEventListener('change', scheduleSplit);
    const tasks = c.tasks.map((t) => `${t.name} (${t.weight})`).join(', ');
    const weight = c.fixed_count === null ? String(c.weight) : `count ${c.fixed_count}`;
    const share = c.fixed_count === null ? pct(c.weight / totalWeight) : '–';
    const tr = row([[box], [c.name, 'name'], [weight, 'num'], [share, 'num'], ['–', 'num users'], [tasks, 'message']]);
    tr.dataset.class = c.name;
    tbody.appendChild(tr);
  }
  updateOverride();
  scheduleSplit();
}

function selectedClasses() {
  return [...document.querySelectorAll('#classes-table tbody input[type=checkbox]')]
    .filter((b) => b.checked).map((b) => b.dataset.class);
}

function fixedUsers() {
  return !(ui.plan && ui.plan.load.kind !== 'closed' && !byId('f-override').checked);
}

function updateOverride() {
  const on = fixedUsers();
  byId('f-users').disabled = !on;
  byId('f-rate').disabled = !on;
  scheduleSplit();
}

function scheduleSplit() {
  clearTimeout(ui.splitTimer);
  ui.splitTimer = setTimeout(refreshSplit, 120);
}

// The users per class for the entered count, as `kload inspect` counts them.
async function refreshSplit() {
  if (!ui.plan) return;
  let users = Number.parseInt(byId('f-users').value, 10);
  if (!fixedUsers()) {
    const load = ui.plan.load;
    users = load.kind === 'stages' ? Math.max(0, ...load.stages.map((s) => s.users)) : load.max_users;
  }
  const cells = document.querySelectorAll('#classes-table tbody td.users');
  if (!Number.isFinite(users) || users < 0) {
    cells.forEach((c) => { c.textContent = '–'; });
    return;
  }
  const params = new URLSearchParams({ users: String(users) });
  for (const name of selectedClasses()) params.append('user_classes', name);
  try {
    const split = await getJSON(`/split?${params}`);
    const chosen = new Set(selectedClasses());
    split.classes.forEach((c, i) => {
      if (cells[i]) cells[i].textContent = chosen.has(c.name) ? String(c.users) : '–';
    });
  } catch (_) {
    cells.forEach((c) => { c.textContent = '–'; });
  }
}

function formError(message) {
  const box = byId('form-error');
  box.textContent = message || '';
  box.hidden = !message;
}

async function submitStart(event) {
  event.preventDefault();
  formError('');
  const params = new URLSearchParams();
  if (fixedUsers()) {
    const users = byId('f-users').value.trim();
    const rate = byId('f-rate').value.trim();
    if (users === '' || rate === '') {
      formError('Give the number of users and the ramp-up.');
      return;
    }
    params.append('user_count', users);
    params.append('spawn_rate', rate);
  }
  const host = byId('f-host').value.trim();
  if (host) params.append('host', host);
  const runTime = byId('f-runtime').value.trim();
  if (runTime) params.append('run_time', runTime);
  const classes = selectedClasses();
  if (classes.length === 0) {
    formError('Choose at least one user class.');
    return;
  }
  if (classes.length < ui.plan.classes.length) {
    for (const name of classes) params.append('user_classes', name);
  }
  byId('btn-start').disabled = true;
  try {
    const result = await swarm(params);
    if (result.success) {
      ui.wantForm = false;
      selectTab('stats');
      toast(result.message);
      render();
    } else {
      formError(result.message);
    }
  } catch (e) {
    formError(`Could not reach kload: ${e.message}`);
  } finally {
    byId('btn-start').disabled = false;
  }
}

// ---------------------------------------------------------------- controls

function openEdit() {
  const snap = ui.snap;
  byId('e-users').value = snap.target_users;
  byId('e-rate').value = snap.spawn_rate;
  byId('edit-error').hidden = true;
  byId('edit-dialog').showModal();
  byId('e-users').focus();
}

async function submitEdit(event) {
  event.preventDefault();
  const users = byId('e-users').value.trim();
  const rate = byId('e-rate').value.trim();
  const error = byId('edit-error');
  if (users === '' || rate === '') {
    error.textContent = 'Give the number of users and the ramp-up.';
    error.hidden = false;
    return;
  }
  const result = await swarm(new URLSearchParams({ user_count: users, spawn_rate: rate }));
  if (result.success) {
    byId('edit-dialog').close();
    toast(result.message);
  } else {
    error.textContent = result.message;
    error.hidden = false;
  }
}

async function stopTest() {
  try {
    const result = await getJSON('/stop');
    toast(result.message);
  } catch (e) {
    toast(`Stop failed: ${e.message}`, true);
  }
}

async function resetStats() {
  const response = await fetch('/stats/reset');
  toast(response.ok ? 'Statistics reset' : `Reset failed: HTTP ${response.status}`, !response.ok);
}

function newTest() {
  ui.wantForm = true;
  formError('');
  render();
  byId('f-users').focus();
}

// ---------------------------------------------------------------- views

function selectTab(name) {
  ui.tab = TABS.includes(name) ? name : 'stats';
  for (const t of TABS) {
    const selected = t === ui.tab;
    byId(`tab-${t}`).setAttribute('aria-selected', String(selected));
    byId(`tab-${t}`).tabIndex = selected ? 0 : -1;
    byId(`panel-${t}`).hidden = !selected;
  }
  if (history.replaceState) history.replaceState(null, '', `#${ui.tab}`);
  renderTab();
}

function renderHeader(snap) {
  byId('h-host').textContent = snap.host || '–';
  byId('h-host').title = snap.host || '';
  const state = byId('h-state');
  state.textContent = snap.state;
  state.className = `state ${snap.state}`;
  const users = snap.state === 'spawning' ? `${snap.user_count} → ${snap.target_users}` : String(snap.user_count);
  byId('h-users').textContent = users;
  byId('h-rps').textContent = fixed(snap.total.current_rps, 1);
  const ratio = snap.total.num_requests ? snap.total.num_failures / snap.total.num_requests : 0;
  byId('h-fail').textContent = pct(ratio);
  byId('h-elapsed').textContent = snap.started_at ? clock(snap.elapsed_ms) : '–';
  const active = snap.state === 'spawning' || snap.state === 'running';
  byId('btn-edit').hidden = !active;
  byId('btn-stop').hidden = !active;
  byId('btn-reset').hidden = snap.state === 'ready';
  byId('btn-new').hidden = !(snap.state === 'stopped') || ui.wantForm;
  byId('btn-cancel-form').hidden = !(ui.wantForm && snap.state !== 'ready');

  const warnings = byId('warnings');
  warnings.replaceChildren(...snap.warnings.map((w) => el('p', { class: 'banner' }, w)));
  byId('count-failures').textContent = snap.total_failure_groups ? String(snap.total_failure_groups) : '';
  byId('count-errors').textContent = snap.total_scenario_errors ? String(snap.total_scenario_errors) : '';
  const failing = snap.thresholds.filter((t) => t.status === 'failing').length;
  byId('count-thresholds').textContent = failing ? String(failing) : '';
}

const STAT_COLUMNS = [
  ['method', 'method', (r) => r.method],
  ['name', 'name', (r) => r.name],
  ['num_requests', 'num', (r) => fixed(r.num_requests, 0)],
  ['num_failures', 'num', (r) => fixed(r.num_failures, 0)],
  ['median_response_time', 'num', (r) => fixed(r.median_response_time, 0)],
  ['p95_response_time', 'num', (r) => fixed(r.p95_response_time, 0)],
  ['p99_response_time', 'num', (r) => fixed(r.p99_response_time, 0)],
  ['avg_response_time', 'num', (r) => fixed(r.avg_response_time, 2)],
  ['min_response_time', 'num', (r) => fixed(r.min_response_time, 0)],
  ['max_response_time', 'num', (r) => fixed(r.max_response_time, 0)],
  ['avg_content_length', 'num', (r) => fixed(r.avg_content_length, 0)],
  ['current_rps', 'num', (r) => fixed(r.current_rps, 1)],
  ['current_fail_per_sec', 'num', (r) => fixed(r.current_fail_per_sec, 1)],
];

// Writes row `r` into `tr`, touching only the cells that changed (a snapshot a second of
// 500 rows must not rebuild the table each time).
function fillStatRow(tr, r) {
  while (tr.cells.length < STAT_COLUMNS.length) tr.appendChild(document.createElement('td'));
  STAT_COLUMNS.forEach(([key, cls, show], i) => {
    const td = tr.cells[i];
    const className = key === 'num_failures' && r.num_failures > 0 ? `${cls} fails` : cls;
    if (td.className !== className) td.className = className;
    const text = show(r);
    if (td.textContent !== text) td.textContent = text;
  });
}

function renderStats(snap) {
  const rows = snap.stats.slice();
  const { key, dir } = ui.sort;
  if (key) {
    rows.sort((a, b) => {
      const x = a[key];
      const y = b[key];
      const c = typeof x === 'string' ? x.localeCompare(y) : x - y;
      return c * dir || a.name.localeCompare(b.name);
    });
  }
  const table = byId('stats-table');
  const body = table.tBodies[0];
  while (body.rows.length > rows.length) body.deleteRow(-1);
  if (body.rows.length < rows.length) {
    const more = document.createDocumentFragment();
    for (let i = body.rows.length; i < rows.length; i += 1) more.appendChild(document.createElement('tr'));
    body.appendChild(more);
  }
  rows.forEach((r, i) => fillStatRow(body.rows[i], r));
  if (table.tFoot.rows.length === 0) table.tFoot.appendChild(document.createElement('tr'));
  fillStatRow(table.tFoot.rows[0], snap.total);
  for (const th of table.tHead.rows[0].cells) {
    th.setAttribute('aria-sort', th.dataset.key === key ? (dir > 0 ? 'ascending' : 'descending') : 'none');
  }
  const note = byId('stats-note');
  note.hidden = snap.total_names <= snap.stats.length;
  note.textContent = `Showing ${snap.stats.length} of ${snap.total_names} request names (the first ${snap.stats.length} by name, as Locust does); the Aggregated row counts them all, and the CSV download has every one.`;
}

const COLORS = {
  rps: '#16a34a', fps: '#dc2626', p50: '#2563eb', p95: '#9333ea', p99: '#ea580c', users: '#0891b2',
};

function renderCharts(snap) {
  const h = snap.history;
  const times = h.map((p) => p.time);
  const pick = (k) => h.map((p) => (p[k] === undefined ? null : p[k]));
  const { drawLineChart } = window.kloadChart;
  drawLineChart(byId('chart-rps'), times, [
    { label: 'RPS', color: COLORS.rps, values: pick('rps') },
    { label: 'Failures/s', color: COLORS.fps, values: pick('fps') },
  ], '/s');
  const latency = [
    { label: 'p50', color: COLORS.p50, values: pick('p50') },
    { label: 'p95', color: COLORS.p95, values: pick('p95') },
    { label: 'p99', color: COLORS.p99, values: pick('p99') },
  ];
  if (h.some((p) => p.corrected_p95 !== undefined)) {
    latency.push(
      { label: 'p95 corrected', color: COLORS.p95, values: pick('corrected_p95'), dashed: true },
      { label: 'p99 corrected', color: COLORS.p99, values: pick('corrected_p99'), dashed: true },
    );
  }
  drawLineChart(byId('chart-latency'), times, latency, ' ms');
  drawLineChart(byId('chart-users'), times, [
    { label: 'Users', color: COLORS.users, values: pick('user_count') },
  ], '');
}

function renderFailures(snap) {
  const body = document.createDocumentFragment();
  for (const f of snap.failures) {
    body.appendChild(row([
      [fixed(f.occurrences, 0), 'num fails'], [f.method, 'method'], [f.name, 'name'],
      [el('span', { class: 'kind' }, f.kind)], [f.message, 'message'],
      [dateTime(f.first_seen)], [dateTime(f.last_seen)],
    ]));
  }
  byId('failures-table').tBodies[0].replaceChildren(body);
  byId('failures-empty').hidden = snap.failures.length > 0;
  const note = byId('failures-note');
  note.hidden = snap.total_failure_groups <= snap.failures.length;
  note.textContent = `Showing ${snap.failures.length} of ${snap.total_failure_groups} kinds of failure; the CSV download has every one.`;
}

function renderErrors(snap) {
  const body = document.createDocumentFragment();
  for (const e of snap.scenario_errors) {
    const where = document.createElement('div');
    where.appendChild(el('code', {}, `${e.file}:${e.line}:${e.column}`));
    where.appendChild(el('pre', { class: 'where' }, `${String(e.line).padStart(5)} | ${e.source_line}`));
    body.appendChild(row([
      [fixed(e.count, 0), 'num fails'], [e.message, 'message'], [where, 'message'],
      [dateTime(e.first_seen)], [dateTime(e.last_seen)],
    ]));
  }
  byId('errors-table').tBodies[0].replaceChildren(body);
  byId('errors-empty').hidden = snap.scenario_errors.length > 0;
}

function renderRatio(snap) {
  const box = byId('ratio');
  const parts = [];
  for (const c of snap.task_ratios) {
    const section = el('section', { class: 'ratio-class' });
    const users = (snap.classes.find((x) => x.name === c.name) || { users: 0 }).users;
    section.appendChild(el('h3', {}, `${c.name}: ${pct(c.ratio)} of users (${users})`));
    const bar = el('div', { class: 'ratio-bar' });
    bar.style.width = `${Math.max(0.5, c.ratio * 100)}%`;
    section.appendChild(bar);
    const table = el('table');
    const head = el('thead');
    head.appendChild(row([['Task'], ['Of the class', 'num'], ['Of all iterations', 'num']]));
    table.appendChild(head);
    const tbody = el('tbody');
    for (const t of c.tasks) tbody.appendChild(row([[t.name, 'name'], [pct(t.ratio), 'num'], [pct(t.ratio * c.ratio), 'num']]));
    table.appendChild(tbody);
    const wrap = el('div', { class: 'table-wrap' });
    wrap.appendChild(table);
    section.appendChild(wrap);
    parts.push(section);
  }
  if (parts.length === 0) parts.push(el('p', { class: 'empty' }, 'No users run yet.'));
  box.replaceChildren(...parts);
}

const STATUS_WORDS = { passing: 'passing', failing: 'failing', no_data: 'no data' };

function renderThresholds(snap) {
  const body = document.createDocumentFragment();
  for (const t of snap.thresholds) {
    let effect = t.warn_only ? 'warns only' : 'fails the run';
    if (t.aborts) effect = t.would_abort ? 'aborts the run now' : 'aborts the run when failing';
    body.appendChild(row([
      [el('code', {}, t.source)],
      [el('span', { class: `badge ${t.status}` }, STATUS_WORDS[t.status] || t.status)],
      [t.observed || '–', 'num'],
      [effect, t.would_abort ? 'fails' : ''],
    ]));
  }
  byId('thresholds-table').tBodies[0].replaceChildren(body);
  byId('thresholds-empty').hidden = snap.thresholds.length > 0;
}

function renderLogs(snap) {
  const list = byId('logs');
  const atEnd = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
  const lines = document.createDocumentFragment();
  for (const l of snap.logs) {
    const li = el('li', { class: `level-${l.level}` });
    li.textContent = `${dateTime(l.time)}  ${l.level}  ${l.message}`;
    lines.appendChild(li);
  }
  list.replaceChildren(lines);
  byId('logs-empty').hidden = snap.logs.length > 0;
  if (atEnd) list.scrollTop = list.scrollHeight;
}

// Only the visible tab is drawn, once per snapshot.
function renderTab() {
  const snap = ui.snap;
  if (!snap || byId('run').hidden) return;
  if (ui.tab === 'stats' && snap.stats.length > BIG_TABLE) {
    const wait = ui.statsDrawnAt + 1000 - performance.now();
    clearTimeout(ui.statsTimer);
    if (wait > 0) {
      ui.statsTimer = setTimeout(renderTab, wait);
      return;
    }
    ui.statsDrawnAt = performance.now();
  }
  const draw = {
    stats: renderStats, charts: renderCharts, failures: renderFailures, errors: renderErrors,
    ratio: renderRatio, thresholds: renderThresholds, download: () => {}, logs: renderLogs,
  }[ui.tab];
  draw(snap);
}

function render() {
  const snap = ui.snap;
  if (!snap || !ui.plan) return;
  renderHeader(snap);
  const form = snap.state === 'ready' || ui.wantForm;
  byId('start').hidden = !form;
  byId('run').hidden = form;
  if (!form) renderTab();
}

function update(snap) {
  const wasActive = ui.snap && (ui.snap.state === 'spawning' || ui.snap.state === 'running');
  ui.snap = snap;
  // A test started elsewhere (a script, another tab) replaces a pending form.
  if (!wasActive && (snap.state === 'spawning' || snap.state === 'running') && ui.wantForm) {
    ui.wantForm = false;
  }
  // Drawn at the next frame: snapshots that arrive together are drawn once, and a tab in
  // the background draws nothing.
  if (!ui.renderPending) {
    ui.renderPending = true;
    requestAnimationFrame(() => {
      ui.renderPending = false;
      render();
    });
  }
}

// ---------------------------------------------------------------- live data

function connect() {
  if (!window.EventSource) {
    poll();
    return;
  }
  const source = new EventSource('/events');
  source.addEventListener('snapshot', (event) => {
    byId('connection').hidden = true;
    update(JSON.parse(event.data));
  });
  source.addEventListener('error', () => {
    byId('connection').hidden = false;
    if (source.readyState === EventSource.CLOSED) {
      setTimeout(connect, 2000);
    }
  });
}

// Locust's 2-second polling, for browsers or proxies without server-sent events.
async function poll() {
  try {
    update(await getJSON('/snapshot'));
    byId('connection').hidden = true;
  } catch (_) {
    byId('connection').hidden = false;
  }
  setTimeout(poll, 2000);
}

// ---------------------------------------------------------------- start

async function main() {
  byId('start-form').addEventListener('submit', submitStart);
  byId('f-users').addEventListener('input', scheduleSplit);
  byId('f-override').addEventListener('change', updateOverride);
  byId('btn-edit').addEventListener('click', openEdit);
  byId('edit-form').addEventListener('submit', submitEdit);
  byId('btn-edit-cancel').addEventListener('click', () => byId('edit-dialog').close());
  byId('btn-stop').addEventListener('click', stopTest);
  byId('btn-reset').addEventListener('click', resetStats);
  byId('btn-new').addEventListener('click', newTest);
  byId('btn-cancel-form').addEventListener('click', () => { ui.wantForm = false; render(); });
  for (const t of TABS) byId(`tab-${t}`).addEventListener('click', () => selectTab(t));
  byId('run').querySelector('.tabs').addEventListener('keydown', (event) => {
    const i = TABS.indexOf(ui.tab);
    const next = event.key === 'ArrowRight' ? TABS[(i + 1) % TABS.length]
      : event.key === 'ArrowLeft' ? TABS[(i + TABS.length - 1) % TABS.length] : null;
    if (next) {
      selectTab(next);
      byId(`tab-${next}`).focus();
    }
  });
  for (const th of byId('stats-table').tHead.rows[0].cells) {
    th.querySelector('button').addEventListener('click', () => {
      const key = th.dataset.key;
      ui.sort = ui.sort.key === key ? { key, dir: -ui.sort.dir } : { key, dir: key === 'name' || key === 'method' ? 1 : -1 };
      if (ui.snap) renderStats(ui.snap);
    });
  }
  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (ui.tab === 'charts') renderTab(); }, 150);
  });
  selectTab(location.hash.slice(1));
  try {
    ui.plan = await getJSON('/plan');
  } catch (e) {
    byId('connection').hidden = false;
    byId('connection').textContent = `Could not load the plan: ${e.message}`;
    return;
  }
  renderPlan();
  connect();
}

main();
