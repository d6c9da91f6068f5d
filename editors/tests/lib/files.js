// Which .kload files the editor tests cover: every file under scenarios/ and examples/
// (found afresh on each run, so new examples are picked up without editing the tests),
// plus editors/tests/sample.kload, which uses every construct of the grammar.
'use strict';
const fs = require('fs');
const path = require('path');

const EDITORS = path.resolve(__dirname, '..', '..');
const ROOT = path.dirname(EDITORS);
const GRAMMAR = path.join(ROOT, 'grammar', 'kload.pest');
const SAMPLE = path.join(EDITORS, 'tests', 'sample.kload');

function walk(dir) {
  if (!fs.existsSync(dir)) return [];
  const found = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...walk(full));
    else if (entry.isFile() && entry.name.endsWith('.kload')) found.push(full);
  }
  return found;
}

/** Shipped scenario files, as paths relative to the repository root, sorted. */
function shippedFiles() {
  return ['scenarios', 'examples']
    .flatMap((d) => walk(path.join(ROOT, d)))
    .map((f) => path.relative(ROOT, f))
    .sort();
}

/** Shipped files plus the sample, relative to the repository root. */
function allFiles() {
  return [...shippedFiles(), path.relative(ROOT, SAMPLE)];
}

module.exports = { EDITORS, ROOT, GRAMMAR, SAMPLE, shippedFiles, allFiles };
