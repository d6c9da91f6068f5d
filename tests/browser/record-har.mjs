// Records a HAR with headless Chromium (Debian's, driven by playwright-core's `recordHar`) while
// a page uses kload's demo target the way a single-page app would: it opens a page of the
// target, logs in, lists the projects, opens one and its open tasks, creates a task, reads it
// back and updates it, with a person's pauses in between. The page also loads an image and a
// stylesheet and reports to an analytics host (both answered by Playwright's router, so nothing
// leaves the machine): `kload import har` must drop those.
//
// Usage: node record-har.mjs BASE_URL OUT.har
//   BASE_URL is the demo target, e.g. http://127.0.0.1:8000 (`kload demo --serve`).
// The demo's accounts are public (scenarios/data/accounts.csv); the recording holds one of
// them and the tokens the target handed out, as a real recording would.

import { chromium } from 'playwright-core';

const CHROMIUM = process.env.KLOAD_CHROMIUM || '/usr/bin/chromium';
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
];
// A person reading the page before the next click; the import keeps these as `sleep`.
const THINK_MS = 1500;

const [base, out] = process.argv.slice(2);
if (!base || !out) {
  console.error('usage: node record-har.mjs BASE_URL OUT.har');
  process.exit(2);
}

// A 1x1 transparent PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
  'base64',
);

const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
const context = await browser.newContext({ recordHar: { path: out, content: 'embed' } });
// The app's assets and its analytics host, answered here rather than by a server.
await context.route('**/static/**', (route) => {
  const css = route.request().url().endsWith('.css');
  return route.fulfill({
    status: 200,
    contentType: css ? 'text/css' : 'image/png',
    body: css ? 'body { font-family: sans-serif; }' : PNG,
  });
});
await context.route('https://analytics.example.com/**', (route) => route.fulfill({
  status: 204,
  headers: { 'access-control-allow-origin': '*' },
}));

const page = await context.newPage();
const think = () => page.waitForTimeout(THINK_MS);

// The first page: a document of the target, so that fetch() calls are same-origin.
await page.goto(`${base}/api/v1/health/`);
await page.evaluate(() => {
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = '/static/app.css';
  document.head.appendChild(link);
  const img = document.createElement('img');
  img.src = '/static/logo.png';
  document.body.appendChild(img);
  return new Promise((resolve) => { img.onload = resolve; img.onerror = resolve; });
});
await think();

// What the app's JavaScript does; `call` returns the status and the parsed JSON body.
async function call(method, path, { token, body } = {}) {
  return page.evaluate(async ({ method, path, token, body }) => {
    const headers = { Accept: 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, json: text ? JSON.parse(text) : null };
  }, { method, path, token, body });
}
function expect(what, r, status) {
  if (r.status !== status) {
    throw new Error(`${what}: status ${r.status}, expected ${status}: ${JSON.stringify(r.json)}`);
  }
  return r.json;
}

const login = expect('login', await call('POST', '/api/v1/auth/login/', {
  body: { username: 'loaduser001', password: 'loadpass123' },
}), 200);
const token = login.access;
await page.evaluate(() => fetch('https://analytics.example.com/collect?event=login', { method: 'POST' }));
await think();

const projects = expect('projects', await call('GET', '/api/v1/projects/', { token }), 200);
await think();

// A second page of the app: the project's page, opened from the list.
const project = projects.results[projects.results.length - 1];
await page.goto(`${base}/api/v1/health/?page=project`);
expect('project', await call('GET', `/api/v1/projects/${project.id}/`, { token }), 200);
expect('tasks', await call('GET', `/api/v1/tasks/?project=${project.id}&status=Pending`, { token }), 200);
await think();

const task = expect('create task', await call('POST', '/api/v1/tasks/', {
  token,
  body: { title: 'Check the scaffolding', project: project.id, priority: 'high' },
}), 201);
await think();
expect('task', await call('GET', `/api/v1/tasks/${task.id}/`, { token }), 200);
expect('update task', await call('PATCH', `/api/v1/tasks/${task.id}/`, {
  token,
  body: { status: 'In Progress' },
}), 200);

await context.close(); // writes the HAR
await browser.close();
console.log(`recorded ${out}`);
