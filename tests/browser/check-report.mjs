// Opens kload HTML reports in headless Chromium (Debian's, driven by playwright-core) and
// checks what a person would: the page loads without console or page errors, fetches nothing
// (only file: and data: URLs), every section is there, each chart is an SVG of nonzero size
// with drawn lines whose colours really appear on screen, a phone-width viewport does not
// scroll sideways, printing on A4 cuts no table and opens the source (NAME.pdf), and a
// full-page screenshot is written beside each report (NAME.png).
//
// Pages that say more get more checks: the latency from the intended start (a table, and
// dashed lines that really show dashes on the response-time chart), and how the run ended
// (the notes sit between the header and the first panel, are visible, and a scenario error's
// line link opens the source at that line).
//
// Usage: node check-report.mjs REPORT.html[:CHARTS[:FEATURE,...]] ...
//   CHARTS is how many drawn charts the report must have (default 3); 0 means the three
//   chart places must hold a note instead (a run of 0 or 1 time points).
//   FEATURE: `corrected` (the page has the corrected view), `outcome` (notes on how the run
//   ended), `interrupted` (the INTERRUPTED badge), `suspect` (the generator's warning).
// Prints one line per check and ends with `browser: N passed, M failed`; exits 1 on a failure.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { colourCounts } from './pixels.mjs';

const CHROMIUM = process.env.KLOAD_CHROMIUM || '/usr/bin/chromium';
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
];
const SECTIONS = ['thresholds', 'charts', 'requests', 'percentiles', 'corrected', 'generator',
  'status-codes', 'failures', 'errors', 'details', 'source'];
const CHART_IDS = ['chart-rps', 'chart-latency', 'chart-users'];

const targets = process.argv.slice(2).map((arg) => {
  const m = /^(.*?)(?::(\d+)(?::([a-z,]+))?)?$/.exec(arg);
  return {
    file: path.resolve(m[1]),
    charts: m[2] === undefined ? 3 : Number(m[2]),
    features: new Set(m[3] ? m[3].split(',') : []),
  };
});
if (targets.length === 0) {
  console.error('usage: node check-report.mjs REPORT.html[:CHARTS] ...');
  process.exit(2);
}

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
  } catch (e) {
    result(`${name} [${Date.now() - t0} ms]`, false, e && e.message ? e.message.split('\n')[0] : String(e));
  }
}
function assert(cond, message) {
  if (!cond) throw new Error(message);
}

const started = Date.now();
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kload-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: CHROMIUM,
  headless: true,
  args: FLAGS,
  viewport: { width: 1280, height: 900 },
  deviceScaleFactor: 1,
});

try {
  for (const { file, charts, features } of targets) {
    const name = path.basename(file);
    const page = await context.newPage();
    const errors = [];
    const requests = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    page.on('dialog', (d) => { errors.push(`dialog: ${d.message()}`); d.dismiss().catch(() => {}); });
    page.on('request', (r) => requests.push(r.url()));
    page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));

    await check(`${name} loads`, async () => {
      assert(fs.existsSync(file), `no such file ${file}`);
      const response = await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
      assert(response === null || response.ok(), 'navigation failed');
      const title = await page.title();
      assert(/kload report/.test(title), `title is "${title}"`);
      return `"${title}"`;
    });

    await check(`${name} has every section`, async () => {
      for (const id of SECTIONS) {
        const box = await page.locator(`section#${id}`).boundingBox();
        assert(box && box.width > 0 && box.height > 0, `section #${id} missing or empty`);
      }
      assert((await page.locator('h1').count()) === 1, 'no single <h1>');
    });

    if (charts > 0) {
      await check(`${name} draws ${charts} charts`, async () => {
        const found = await page.evaluate((ids) => ids.map((id) => {
          const svg = document.getElementById(id);
          if (!svg) return { id, missing: true };
          const box = svg.getBoundingClientRect();
          const lines = [...svg.querySelectorAll('path.line, polyline')];
          const length = lines.reduce((sum, p) => sum + p.getTotalLength(), 0);
          return { id, width: box.width, height: box.height, lines: lines.length, length };
        }), CHART_IDS.slice(0, charts));
        for (const c of found) {
          assert(!c.missing, `#${c.id} missing`);
          assert(c.width > 100 && c.height > 50, `#${c.id} is ${c.width}x${c.height}`);
          assert(c.lines > 0 && c.length > 10, `#${c.id} has no drawn line`);
        }
        return found.map((c) => `${c.id} ${Math.round(c.width)}x${Math.round(c.height)}`).join(', ');
      });

      // What is on screen, not just in the DOM: each series' colour must show up in the
      // chart's pixels.
      await check(`${name} chart colours on screen`, async () => {
        const report = [];
        for (const id of CHART_IDS.slice(0, charts)) {
          const chart = page.locator(`#${id}`);
          const colors = await chart.evaluate((svg) =>
            [...svg.querySelectorAll('.legend .swatch')].map((l) => l.getAttribute('stroke')));
          assert(colors.length > 0, `#${id} has no legend`);
          const counts = await colourCounts(page, chart, colors);
          colors.forEach((c, k) => assert(counts[k] >= 30, `#${id}: colour ${c} on ${counts[k]} pixels`));
          report.push(`${id} ${counts.join('/')}`);
        }
        return report.join(', ');
      });
    } else {
      await check(`${name} shows notes instead of charts`, async () => {
        const svgs = await page.locator('svg.chart').count();
        const notes = await page.locator('#charts .chart-note').count();
        assert(svgs === 0, `${svgs} chart(s) drawn`);
        assert(notes === 3, `${notes} note(s)`);
        return (await page.locator('#charts .chart-note').first().textContent()).slice(0, 60);
      });
    }

    await check(`${name} latency from the intended start`, async () => {
      const found = await page.evaluate(() => {
        const section = document.getElementById('corrected');
        const rows = section.querySelectorAll('tbody tr').length;
        const chart = document.getElementById('chart-latency');
        const dashed = chart ? [...chart.querySelectorAll('path.line.dashed')] : [];
        return {
          rows,
          note: !!section.querySelector('.empty'),
          dashed: dashed.map((p) => ({
            dash: getComputedStyle(p).strokeDasharray,
            length: p.getTotalLength(),
          })),
          labels: chart ? [...chart.querySelectorAll('.legend text')].map((t) => t.textContent) : [],
        };
      });
      if (features.has('corrected')) {
        assert(found.rows > 0, 'no row in the corrected table');
        assert(found.dashed.length === 3, `${found.dashed.length} dashed lines`);
        for (const d of found.dashed) {
          assert(d.dash && d.dash !== 'none', `a dashed line is drawn solid (${d.dash})`);
          assert(d.length > 10, `a dashed line is ${d.length} long`);
        }
        for (const label of ['corrected p50', 'corrected p95', 'corrected p99']) {
          assert(found.labels.includes(label), `no legend "${label}"`);
        }
        return `${found.rows} rows, dashes ${found.dashed[0].dash}`;
      }
      assert(found.rows === 0 && found.note, 'a corrected table without a schedule');
      assert(found.dashed.length === 0, `${found.dashed.length} dashed lines without a schedule`);
      return 'a note, no dashed line';
    });

    await check(`${name} says how the run ended`, async () => {
      const found = await page.evaluate(() => {
        const box = (el) => (el ? el.getBoundingClientRect().toJSON() : null);
        const outcome = document.getElementById('outcome');
        return {
          outcome: box(outcome),
          header: box(document.querySelector('header.page-head')),
          nav: box(document.querySelector('nav')),
          callouts: outcome ? [...outcome.querySelectorAll('.callout')].map((c) => ({
            text: c.textContent, height: c.getBoundingClientRect().height,
          })) : [],
          badges: [...document.querySelectorAll('.verdict')].map((b) => b.textContent),
          lineLink: outcome ? outcome.querySelector('a[href^="#L"]')?.getAttribute('href') : null,
        };
      });
      if (!features.has('outcome')) {
        assert(found.outcome === null, 'notes on how the run ended for a clean run');
        return 'no notes';
      }
      assert(found.outcome && found.outcome.height > 0, 'no notes on how the run ended');
      assert(found.outcome.top >= found.header.bottom && found.outcome.bottom <= found.nav.top,
        'the notes are not between the header and the navigation');
      for (const c of found.callouts) assert(c.height > 0, `hidden note: ${c.text.slice(0, 40)}`);
      const interrupted = found.badges.some((b) => b.startsWith('Run INTERRUPTED'));
      assert(interrupted === features.has('interrupted'), `badges: ${found.badges.join(' | ')}`);
      const suspect = found.callouts.some((c) => c.text.startsWith('The numbers are suspect'));
      assert(suspect === features.has('suspect'), 'the generator warning');
      if (found.lineLink) {
        // Following a scenario error's line opens the source (closed) at that line.
        await page.locator(`#outcome a[href="${found.lineLink}"]`).click();
        const shown = await page.waitForFunction((id) => {
          const el = document.getElementById(id);
          const r = el.getBoundingClientRect();
          return el.closest('details').open && r.height > 0 && r.top >= -2
            && r.bottom <= window.innerHeight;
        }, found.lineLink.slice(1), { timeout: 3000 }).then(() => true, () => false);
        const where = await page.evaluate((id) => {
          const el = document.getElementById(id);
          const r = el.getBoundingClientRect();
          return `open=${el.closest('details').open} top=${Math.round(r.top)} bottom=${Math.round(r.bottom)} of ${window.innerHeight}`;
        }, found.lineLink.slice(1));
        assert(shown, `${found.lineLink} not shown (${where})`);
        await page.locator('details').evaluateAll((ds) => ds.forEach((d) => { d.open = false; }));
        await page.evaluate(() => window.scrollTo(0, 0));
      }
      return `${found.callouts.length} notes; ${found.badges.join(' | ')}${found.lineLink ? `; ${found.lineLink} opens` : ''}`;
    });

    await check(`${name} fits a phone screen`, async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      await page.setViewportSize({ width: 1280, height: 900 });
      assert(overflow <= 0, `page scrolls sideways by ${overflow}px`);
    });

    // A4 with the page's 12 mm margins is about 700 CSS px wide: no table may be cut off,
    // and printing opens the scenario source (the page's beforeprint handler).
    await check(`${name} prints on A4`, async () => {
      await page.emulateMedia({ media: 'print' });
      await page.setViewportSize({ width: 700, height: 900 });
      const cut = await page.evaluate(() => [...document.querySelectorAll('.table-wrap')]
        .filter((w) => w.scrollWidth > w.clientWidth + 1)
        .map((w) => w.closest('section').id));
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.emulateMedia({ media: 'screen' });
      assert(cut.length === 0, `tables wider than the paper in ${cut.join(', ')}`);
      const pdf = file.replace(/\.html?$/, '') + '.pdf';
      await page.pdf({ path: pdf, format: 'A4' });
      const closed = await page.locator('details:not([open])').count();
      assert(closed === 0, `${closed} <details> still closed when printing`);
      return `${path.relative(process.cwd(), pdf)} (${fs.statSync(pdf).size} bytes)`;
    });

    await check(`${name} screenshot`, async () => {
      await page.locator('details').evaluateAll((ds) => ds.forEach((d) => { d.open = true; }));
      const shot = file.replace(/\.html?$/, '') + '.png';
      await page.screenshot({ path: shot, fullPage: true });
      const head = fs.readFileSync(shot).subarray(0, 8);
      assert(head.equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), 'not a PNG');
      return `${path.relative(process.cwd(), shot)} (${fs.statSync(shot).size} bytes)`;
    });

    // Last, so that it covers everything above.
    await check(`${name} offline, no errors`, async () => {
      const outside = requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'));
      assert(outside.length === 0, `fetched ${outside.join(', ')}`);
      assert(errors.length === 0, errors.join('; '));
      return `${requests.length} request(s), all file:/data:`;
    });
    await page.close();
  }
} finally {
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}

console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
