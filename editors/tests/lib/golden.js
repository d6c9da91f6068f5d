// Golden files: compare actual text with a committed file, or rewrite it when KLOAD_BLESS=1.
'use strict';
const fs = require('fs');
const path = require('path');

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

/** A short line diff: the first differing lines, with line numbers. */
function lineDiff(expected, actual) {
  const e = expected.split('\n');
  const a = actual.split('\n');
  const out = [];
  for (let i = 0; i < Math.max(e.length, a.length) && out.length < 20; i++) {
    if (e[i] !== a[i]) {
      if (e[i] !== undefined) out.push(`- ${i + 1}: ${e[i]}`);
      if (a[i] !== undefined) out.push(`+ ${i + 1}: ${a[i]}`);
    }
  }
  return out;
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
