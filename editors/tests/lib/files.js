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

/** Cases of the tree-sitter corpus: [{file, name, input, expected}]. */
function corpusCases() {
  const dir = path.join(EDITORS, 'tree-sitter-kload', 'test', 'corpus');
  const cases = [];
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.txt')).sort()) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    const re = /^={3,}\n(.*)\n={3,}\n([\s\S]*?)\n-{3,}\n([\s\S]*?)(?=\n={3,}\n|(?![\s\S]))/gm;
    for (const m of text.matchAll(re)) cases.push({ file: f, name: m[1].trim(), input: m[2].replace(/^\n/, ''), expected: m[3] });
  }
  return cases;
}

/**
 * Writes each corpus input to editors/tests/out/corpus/ and returns the cases with `path`
 * (relative to the repository root). They are small files full of edge cases that the
 * highlighting checks run on too.
 */
function corpusInputs() {
  const dir = path.join(EDITORS, 'tests', 'out', 'corpus');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return corpusCases().map((c, i) => {
    const f = path.join(dir, `${c.file.replace(/\.txt$/, '')}-${i + 1}.kload`);
    fs.writeFileSync(f, c.input);
    return { ...c, path: path.relative(ROOT, f) };
  });
}

module.exports = { EDITORS, ROOT, GRAMMAR, SAMPLE, shippedFiles, allFiles, corpusCases, corpusInputs };
