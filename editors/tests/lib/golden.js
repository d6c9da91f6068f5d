// Golden files: compare actual text with a committed file, or rewrite it when KLOAD_BLESS=1.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const BLESS = process.env.KLOAD_BLESS === '1';

/** Returns a list of problems (empty when equal or blessed). */
function compareGolden(goldenPath, actual, label) {
  if (BLESS) {
    fs.mkdirSync(path.dirname(goldenPath), { recursive: true });
    fs.writeFileSync(goldenPath, actual);
    return [];
  }
  if (!fs.existsSync(goldenPath)) {
    return [`no golden file ${goldenPath} for ${label}: run KLOAD_BLESS=1 bash editors/test.sh and review the new file`];
  }
  const expected = fs.readFileSync(goldenPath, 'utf8');
  if (expected === actual) return [];
  return [`${label} differs from ${path.basename(goldenPath)} (re-bless with KLOAD_BLESS=1 bash editors/test.sh if intended):`, ...lineDiff(expected, actual)];
}

/** A unified diff of the two texts (from `diff -u`), cut to its first 40 lines. */
function lineDiff(expected, actual) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kload-golden-'));
  try {
    fs.writeFileSync(path.join(dir, 'expected'), expected);
    fs.writeFileSync(path.join(dir, 'actual'), actual);
    const r = spawnSync('diff', ['-u', 'expected', 'actual'], { cwd: dir, encoding: 'utf8' });
    return (r.stdout || String(r.error)).split('\n').slice(2, 42);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Golden files in `dir` that no longer belong to any input (removed or renamed files). */
function staleGoldens(dir, expectedPaths) {
  if (!fs.existsSync(dir)) return [];
  const keep = new Set(expectedPaths.map((p) => path.resolve(p)));
  const stale = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (!keep.has(path.resolve(full))) stale.push(full);
    }
  };
  walk(dir);
  if (BLESS) {
    for (const f of stale) fs.unlinkSync(f);
    return [];
  }
  return stale;
}

module.exports = { BLESS, compareGolden, staleGoldens };
