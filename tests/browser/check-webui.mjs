// Drives kload's web UI in headless Chromium (Debian's, through playwright-core) the way a
// person runs the seed guide's "Basic Test": open the page, fill the start form, start, see
// rows and charts appear, edit the user count and see the users chart follow, look at every
// tab, download the CSV files and the report, stop, reset, and start a new test. Checks that
// nothing is fetched from elsewhere, the page has no console or page errors and no
// Content-Security-Policy violation, and a phone-width screen does not scroll sideways.
// Screenshots (desktop and phone) and downloads go to target/browser/.
//
// Usage: node check-webui.mjs URL [MANY_URL]
//   URL: a kload web UI in state `ready` (the fake controller of `cargo test --lib
//   web::tests::serve_for_browser`, or `kload run FILE` without --headless).
//   MANY_URL: one whose run has more than 500 request names (the page must cut them at 500
//   and stay responsive; the time a sort and a redraw take is printed, not asserted).
// Prints one line per check and ends with `browser: N passed, M failed`; exits 1 on a failure.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { colourCounts } from './pixels.mjs';

const CHROMIUM = process.env.KLOAD_CHROMIUM || '/usr/bin/chromium';
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
];
const here = path.dirname(fileURLToPath(import.meta.url));
const OUT = process.env.KLOAD_BROWSER_DIR || path.resolve(here, '../../target/browser');
const STATS_HEADER = 'Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%';
const FAILURES_HEADER = 'Method,Name,Error,Occurrences,First Seen,Last Seen';
const TIMEOUT = 15000;

const [url, manyUrl] = process.argv.slice(2);
if (!url) {
  console.error('usage: node check-webui.mjs URL [MANY_URL]');
  process.exit(2);
}
fs.mkdirSync(OUT, { recursive: true });

let passed = 0;
let failed = 0;
function result(name, ok, detail = '') {
  if (ok) passed += 1; else failed += 1;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
}
async function check(name, fn) {
  const t0 = Date.now();
  try {
    const detail = await fn();
    result(`${name} [${Date.now() - t0} ms]`, true, typeof detail === 'string' ? detail : '');
    return true;
  } catch (e) {
    result(`${name} [${Date.now() - t0} ms]`, false, e && e.message ? e.message.split('\n')[0] : String(e));
    return false;
  }
}
function assert(cond, message) {
  if (!cond) throw new Error(message);
}

// Problems the page reports: console errors, uncaught errors, CSP violations, outside URLs.
function watch(page, origin) {
  const problems = [];
  const requests = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => { problems.push(`dialog: ${d.message()}`); d.dismiss().catch(() => {}); });
  page.on('request', (r) => requests.push(r.url()));
  page.on('requestfailed', (r) => {
    // The event stream is cut when a page closes or navigates; that is not an error.
    if (!r.url().endsWith('/events')) problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  return {
    problems,
    outside: () => requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:')),
    count: () => requests.length,
  };
}

const CSP_PROBE = () => {
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`);
  });
};

const text = (page, selector) => page.locator(selector).first().textContent();
const waitFor = (page, fn, arg) => page.waitForFunction(fn, arg, { timeout: TIMEOUT, polling: 100 });

// The users chart's points, from its path: [x, y] in SVG units (y grows downwards).
const usersPoints = (page) => page.evaluate(() => {
  const line = document.querySelector('#chart-users path.line');
  if (!line) return [];
  return [...line.getAttribute('d').matchAll(/[ML]([\d.]+),([\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
});

async function openTab(page, name) {
  await page.click(`#tab-${name}`);
  await page.locator(`#panel-${name}`).waitFor({ state: 'visible', timeout: TIMEOUT });
}

async function download(page, selector, name) {
  const [file] = await Promise.all([
    page.waitForEvent('download', { timeout: TIMEOUT }),
    page.click(selector),
  ]);
  const target = path.join(OUT, `webui-${name}`);
  await file.saveAs(target);
  return { target, suggested: file.suggestedFilename(), body: fs.readFileSync(target, 'utf8') };
}

async function noSidewaysScroll(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

const started = Date.now();
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kload-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: CHROMIUM,
  headless: true,
  args: FLAGS,
  viewport: { width: 1280, height: 900 },
  deviceScaleFactor: 1,
  acceptDownloads: true,
});
await context.addInitScript(CSP_PROBE);

try {
  const origin = new URL(url).origin;
  const page = await context.newPage();
  const watcher = watch(page, origin);

  const opened = await check('opens the start form', async () => {
    await page.goto(url, { waitUntil: 'load' });
    await page.locator('#start').waitFor({ state: 'visible', timeout: TIMEOUT });
    const title = await page.title();
    assert(/^kload/.test(title), `title is "${title}"`);
    const state = await text(page, '#h-state');
    assert(state === 'ready', `state is ${state}`);
    return `"${title}"`;
  });
  if (!opened) throw new Error('the page did not open; nothing else can be checked');

  await check('the form shows each class with its users for the count typed', async () => {
    const classes = await page.locator('#classes-table tbody tr').count();
    assert(classes >= 1, 'no user class');
    await page.fill('#f-users', '100');
    await waitFor(page, () => [...document.querySelectorAll('#classes-table td.users')]
      .reduce((sum, td) => sum + Number(td.textContent), 0) === 100);
    const users = await page.$$eval('#classes-table td.users', (tds) => tds.map((td) => Number(td.textContent)));
    const sum = users.reduce((a, b) => a + b, 0);
    assert(sum === 100, `the split of 100 users adds up to ${sum}`);
    await page.screenshot({ path: path.join(OUT, 'webui-form.png'), fullPage: true });
    return `${classes} classes, ${users.join('/')} of 100 users`;
  });

  await check('a bad run time is refused with Locust\'s message', async () => {
    await page.fill('#f-users', '30');
    await page.fill('#f-rate', '10');
    await page.click('details.advanced summary');
    await page.fill('#f-runtime', 'soon');
    await page.click('#btn-start');
    await page.locator('#form-error').waitFor({ state: 'visible', timeout: TIMEOUT });
    const message = await text(page, '#form-error');
    assert(/Valid run_time formats/.test(message), message);
    // The refusal is a 400, which Chromium logs; that one is expected.
    const expected = watcher.problems.filter((p) => /\b400\b/.test(p));
    assert(expected.length === 2, `problems: ${watcher.problems.join('; ')}`);
    watcher.problems.splice(0, watcher.problems.length, ...watcher.problems.filter((p) => !/\b400\b/.test(p)));
    await page.fill('#f-runtime', '');
    return message;
  });

  await check('starting shows rows and the Aggregated row', async () => {
    await page.click('#btn-start');
    await page.locator('#run').waitFor({ state: 'visible', timeout: TIMEOUT });
    await waitFor(page, () => document.querySelectorAll('#stats-table tbody tr').length >= 3
      && /^(spawning|running)$/.test(document.getElementById('h-state').textContent));
    const rows = await page.locator('#stats-table tbody tr').count();
    const total = await page.$$eval('#stats-table tfoot td', (tds) => tds.map((td) => td.textContent));
    assert(total[1] === 'Aggregated', `footer is ${total.join('|')}`);
    const headers = await page.$$eval('#stats-table thead th', (ths) => ths.map((th) => th.textContent.trim()));
    assert(headers.join('|') === 'Type|Name|# Requests|# Fails|Median (ms)|95%ile (ms)|99%ile (ms)|Average (ms)|Min (ms)|Max (ms)|Average size (bytes)|Current RPS|Current Failures/s', headers.join('|'));
    return `${rows} rows`;
  });

  await check('columns sort, Aggregated stays last', async () => {
    await waitFor(page, () => document.getElementById('h-state').textContent === 'running');
    await page.click('#stats-table th[data-key=num_requests] button');
    const counts = await page.$$eval('#stats-table tbody tr td:nth-child(3)', (tds) => tds.map((td) => Number(td.textContent.replace(/,/g, ''))));
    const sorted = [...counts].sort((a, b) => b - a);
    assert(JSON.stringify(counts) === JSON.stringify(sorted), `not descending: ${counts}`);
    const sortAttr = await page.getAttribute('#stats-table th[data-key=num_requests]', 'aria-sort');
    assert(sortAttr === 'descending', `aria-sort=${sortAttr}`);
    await page.click('#stats-table th[data-key=name] button');
    const names = await page.$$eval('#stats-table tbody tr td:nth-child(2)', (tds) => tds.map((td) => td.textContent));
    assert(JSON.stringify(names) === JSON.stringify([...names].sort((a, b) => a.localeCompare(b))), 'names not ascending');
    await page.screenshot({ path: path.join(OUT, 'webui-desktop.png'), fullPage: true });
    const cut = await page.$eval('#panel-stats .table-wrap', (w) => w.scrollWidth - w.clientWidth);
    assert(cut <= 1, `the statistics table is ${cut}px wider than a 1280px screen`);
    return `# Requests ${counts.slice(0, 3).join(', ')}…`;
  });

  await check('charts draw requests, response times and users', async () => {
    await openTab(page, 'charts');
    await waitFor(page, () => ['chart-rps', 'chart-latency', 'chart-users']
      .every((id) => document.querySelectorAll(`#${id} path.line`).length > 0));
    const charts = await page.evaluate(() => ['chart-rps', 'chart-latency', 'chart-users'].map((id) => {
      const svg = document.getElementById(id);
      const box = svg.getBoundingClientRect();
      const lines = [...svg.querySelectorAll('path.line')];
      return {
        id, width: box.width, height: box.height, lines: lines.length,
        length: lines.reduce((s, p) => s + p.getTotalLength(), 0),
        legend: [...svg.querySelectorAll('.legend text')].map((t) => t.textContent),
      };
    }));
    for (const c of charts) {
      assert(c.width > 300 && c.height > 100, `${c.id} is ${c.width}x${c.height}`);
      assert(c.length > 20, `${c.id} lines are ${c.length} long`);
    }
    const latency = charts[1].legend.join(',');
    assert(/p50/.test(latency) && /p95/.test(latency) && /p99/.test(latency), `latency legend ${latency}`);
    // What is on screen: each legend colour shows up in the chart's pixels.
    for (const id of ['chart-rps', 'chart-users']) {
      const colors = await page.$$eval(`#${id} .legend .swatch`, (ls) => ls.map((l) => l.getAttribute('stroke')));
      const counts = await colourCounts(page, page.locator(`#${id}`), colors);
      colors.forEach((c, k) => assert(counts[k] >= 20, `${id}: colour ${c} on ${counts[k]} pixels`));
    }
    // The pointer over the chart shows a cursor, and it stays there while new snapshots
    // redraw the chart under the still pointer (each redraw makes a new cursor element).
    await page.hover('#chart-users', { position: { x: 400, y: 120 } });
    await waitFor(page, () => document.querySelector('#chart-users .cursor')?.getAttribute('visibility') === 'visible')
      .catch(() => { throw new Error('no cursor on hover'); });
    await page.evaluate(() => { window.__cursor = document.querySelector('#chart-users .cursor'); });
    await waitFor(page, () => document.querySelector('#chart-users .cursor') !== window.__cursor)
      .catch(() => { throw new Error('the chart was not redrawn by a new snapshot'); });
    const cursor = await page.getAttribute('#chart-users .cursor', 'visibility');
    assert(cursor === 'visible', 'the cursor vanished when the chart was redrawn under the pointer');
    await page.screenshot({ path: path.join(OUT, 'webui-charts.png'), fullPage: true });
    return charts.map((c) => `${c.id} ${c.lines} line(s)`).join(', ');
  });

  await check('Edit lowers the users and the users chart follows', async () => {
    await waitFor(page, () => document.getElementById('h-users').textContent === '30');
    const before = await usersPoints(page);
    await page.click('#btn-edit');
    await page.locator('#edit-dialog').waitFor({ state: 'visible', timeout: TIMEOUT });
    assert(await page.inputValue('#e-users') === '30', 'the dialog does not show the current target');
    await page.fill('#e-users', '5');
    await page.fill('#e-rate', '5');
    await page.click('#btn-update');
    await page.locator('#edit-dialog').waitFor({ state: 'hidden', timeout: TIMEOUT });
    const toast = await text(page, '#toast');
    await waitFor(page, () => document.getElementById('h-users').textContent === '5');
    // Wait for a chart point at 5 users: the lowest y is the peak, the last point is lower.
    await page.waitForFunction(() => {
      const line = document.querySelector('#chart-users path.line');
      const ys = [...line.getAttribute('d').matchAll(/[ML][\d.]+,([\d.]+)/g)].map((m) => Number(m[1]));
      const top = Math.min(...ys);
      const bottom = document.querySelector('#chart-users').viewBox.baseVal.height - 26;
      const last = ys[ys.length - 1];
      // 5 of 30 users: the last point is 5/6 of the way from the peak to the axis.
      return Math.abs((bottom - last) / (bottom - top) - 5 / 30) < 0.05;
    }, null, { timeout: TIMEOUT, polling: 100 });
    const after = await usersPoints(page);
    assert(after.length >= before.length, 'the chart lost points');
    return `${toast}; ${after.length} points`;
  });

  await check('Failures tab lists grouped failures', async () => {
    await openTab(page, 'failures');
    const rows = await page.$$eval('#failures-table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
    const empty = await page.isVisible('#failures-empty');
    assert(rows.length > 0 || empty, 'neither rows nor the empty note');
    for (const r of rows) {
      assert(/^\d[\d,]*$/.test(r[0]) && r[4].length > 0, `bad row ${r.join('|')}`);
      assert(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(r[5]), `first seen ${r[5]}`);
    }
    return rows.length ? `${rows.length} group(s), e.g. "${rows[0][4]}"` : 'none';
  });

  await check('Errors tab points at the scenario file', async () => {
    await openTab(page, 'errors');
    const wheres = await page.$$eval('#errors-table tbody tr td:nth-child(3) code', (cs) => cs.map((c) => c.textContent));
    for (const w of wheres) assert(/\.kload:\d+:\d+$/.test(w), `where is ${w}`);
    const empty = await page.isVisible('#errors-empty');
    assert(wheres.length > 0 || empty, 'neither rows nor the empty note');
    return wheres.length ? wheres.join(', ') : 'none';
  });

  await check('Current ratio shows classes and tasks', async () => {
    await openTab(page, 'ratio');
    const classes = await page.$$eval('#ratio h3', (hs) => hs.map((h) => h.textContent));
    assert(classes.length >= 1, 'no class');
    const shares = classes.map((c) => Number(/: ([\d.]+)%/.exec(c)[1]));
    const sum = shares.reduce((a, b) => a + b, 0);
    assert(Math.abs(sum - 100) < 0.5, `class shares add up to ${sum}%`);
    return classes.join('; ');
  });

  await check('Thresholds show their live status', async () => {
    await openTab(page, 'thresholds');
    const rows = await page.$$eval('#thresholds-table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
    const empty = await page.isVisible('#thresholds-empty');
    assert(rows.length > 0 || empty, 'neither rows nor the empty note');
    for (const r of rows) assert(['passing', 'failing', 'no data'].includes(r[1]), `status ${r[1]}`);
    return rows.map((r) => `${r[0]}: ${r[1]}`).join('; ') || 'none';
  });

  await check('Logs tab shows what happened', async () => {
    await openTab(page, 'logs');
    const lines = await page.$$eval('#logs li', (ls) => ls.map((l) => l.textContent));
    assert(lines.length > 0, 'no log line');
    return `${lines.length} line(s), last: ${lines[lines.length - 1]}`;
  });

  await check('Download data: Locust\'s CSV files and the report', async () => {
    await openTab(page, 'download');
    const stats = await download(page, '#dl-requests', 'requests.csv');
    assert(stats.body.split(/\r?\n/)[0] === STATS_HEADER, `header ${stats.body.split(/\r?\n/)[0]}`);
    assert(/_requests\.csv$/.test(stats.suggested), stats.suggested);
    const failures = await download(page, '#dl-failures', 'failures.csv');
    assert(failures.body.split(/\r?\n/)[0] === FAILURES_HEADER, `header ${failures.body.split(/\r?\n/)[0]}`);
    const report = await download(page, '#dl-report', 'report.html');
    assert(/^<!DOCTYPE html>/i.test(report.body), 'the report is not HTML');
    const json = await download(page, '#dl-json', 'result.json');
    assert(Number.isInteger(JSON.parse(json.body).schema_version), 'no schema_version');
    return [stats, failures, report, json].map((d) => d.suggested).join(', ');
  });

  await check('phone width: no sideways scroll, tabs reachable', async () => {
    await openTab(page, 'stats');
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await noSidewaysScroll(page);
    await page.screenshot({ path: path.join(OUT, 'webui-phone.png'), fullPage: true });
    await openTab(page, 'charts');
    await page.waitForTimeout(300);
    const chartOverflow = await noSidewaysScroll(page);
    const legendOut = await page.evaluate(() => [...document.querySelectorAll('svg.chart')].flatMap((svg) => {
      const width = svg.viewBox.baseVal.width;
      return [...svg.querySelectorAll('.legend text')]
        .filter((t) => { const b = t.getBBox(); return b.x + b.width > width; })
        .map((t) => `${svg.id}: ${t.textContent}`);
    }));
    assert(legendOut.length === 0, `legend cut off: ${legendOut.join(', ')}`);
    await page.screenshot({ path: path.join(OUT, 'webui-phone-charts.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    assert(overflow <= 0 && chartOverflow <= 0, `scrolls sideways by ${overflow}/${chartOverflow}px`);
  });

  await check('Stop ends the test; New test appears', async () => {
    await page.click('#btn-stop');
    await waitFor(page, () => document.getElementById('h-state').textContent === 'stopped');
    assert(await page.isVisible('#btn-new'), 'no New test button');
    assert(!(await page.isVisible('#btn-stop')), 'Stop still shown');
    const users = await text(page, '#h-users');
    assert(users === '0', `users ${users}`);
  });

  await check('Reset statistics empties the tables', async () => {
    await openTab(page, 'stats');
    const before = await page.locator('#stats-table tbody tr').count();
    await page.click('#btn-reset');
    await waitFor(page, () => document.querySelectorAll('#stats-table tbody tr').length === 0);
    const total = await page.$$eval('#stats-table tfoot td', (tds) => tds[2].textContent);
    assert(total === '0', `Aggregated has ${total} requests`);
    return `${before} rows → 0`;
  });

  await check('New test starts a fresh run', async () => {
    await page.click('#btn-new');
    await page.locator('#start').waitFor({ state: 'visible', timeout: TIMEOUT });
    await page.fill('#f-users', '3');
    await page.fill('#f-rate', '3');
    await page.click('#btn-start');
    await page.locator('#run').waitFor({ state: 'visible', timeout: TIMEOUT });
    await waitFor(page, () => document.getElementById('h-state').textContent === 'running'
      && document.getElementById('h-users').textContent === '3'
      && document.querySelectorAll('#stats-table tbody tr').length > 0);
    await page.click('#btn-stop');
    await waitFor(page, () => document.getElementById('h-state').textContent === 'stopped');
  });

  await check('offline, no errors, no policy violation', async () => {
    const csp = await page.evaluate(() => window.__csp);
    const outside = watcher.outside();
    assert(outside.length === 0, `fetched ${outside.join(', ')}`);
    assert(csp.length === 0, `CSP: ${csp.join('; ')}`);
    assert(watcher.problems.length === 0, watcher.problems.join('; '));
    return `${watcher.count()} request(s), all to ${origin}`;
  });
  await page.close();

  if (manyUrl) {
    const many = await context.newPage();
    const manyWatcher = watch(many, new URL(manyUrl).origin);
    await check('500 of many names are shown, and the page stays responsive', async () => {
      await many.goto(manyUrl, { waitUntil: 'load' });
      await many.locator('#start').waitFor({ state: 'visible', timeout: TIMEOUT });
      await many.fill('#f-users', '20');
      await many.fill('#f-rate', '20');
      await many.click('#btn-start');
      await waitFor(many, () => document.querySelectorAll('#stats-table tbody tr').length === 500);
      const note = await text(many, '#stats-note');
      assert(/Showing 500 of \d+ request names/.test(note), note);
      // Long tasks while snapshots keep arriving, and the time of one sort and redraw.
      const figures = await many.evaluate(() => new Promise((resolve) => {
        const longTasks = [];
        const observer = new PerformanceObserver((list) => {
          for (const e of list.getEntries()) longTasks.push(e.duration);
        });
        observer.observe({ type: 'longtask', buffered: false });
        const t0 = performance.now();
        document.querySelector('#stats-table th[data-key=avg_response_time] button').click();
        const sort = performance.now() - t0;
        setTimeout(() => {
          observer.disconnect();
          resolve({ sort, longTasks });
        }, 3000);
      }));
      await many.screenshot({ path: path.join(OUT, 'webui-many.png') });
      const worst = figures.longTasks.length ? Math.max(...figures.longTasks) : 0;
      return `${note.split(' (')[0]}; sort and redraw of 500 rows ${figures.sort.toFixed(1)} ms; `
        + `${figures.longTasks.length} long task(s) over 3 s, longest ${worst.toFixed(0)} ms`;
    });
    await check('many names: offline, no errors', async () => {
      await many.click('#btn-stop');
      const outside = manyWatcher.outside();
      assert(outside.length === 0, `fetched ${outside.join(', ')}`);
      assert(manyWatcher.problems.length === 0, manyWatcher.problems.join('; '));
    });
    await many.close();
  }
} catch (e) {
  result('the browser test ran to the end', false, e.message.split('\n')[0]);
} finally {
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}

console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
