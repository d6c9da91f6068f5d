// Runs the editor test groups named on the command line (default: all) and prints
// `editors: N passed, M failed` as its last line. Exit status 1 when anything failed.
'use strict';
const { Report } = require('./lib/report');
const { allFiles, corpusInputs } = require('./lib/files');
const { expectations } = require('./lib/oracle');

const GROUPS = {
  textmate: () => require('./textmate'),
  vim: () => require('./vim'),
  'tree-sitter': () => require('./treesitter'),
  drift: () => require('./drift'),
  vscode: () => require('./vscode'),
  lsp: () => require('./lsp'),
};

async function main() {
  const wanted = process.argv.slice(2);
  const names = wanted.length ? wanted : Object.keys(GROUPS);
  const report = new Report();
  const files = allFiles();
  const corpus = corpusInputs();
  const oracle = expectations([...files, ...corpus.map((c) => c.path)]);
  oracle.corpus = corpus;
  console.log(`pest grammar oracle: ${files.length} files, ${corpus.length} corpus inputs`);
  report.check('every .kload file parses with grammar/kload.pest', oracle.errors.filter((e) => !corpus.some((c) => e.startsWith(c.path))));
  const stats = {};
  for (const name of names) {
    if (!GROUPS[name]) throw new Error(`unknown group ${name}; groups: ${Object.keys(GROUPS).join(', ')}`);
    console.log(`${name}:`);
    try {
      stats[name] = await GROUPS[name]().run(report, oracle);
    } catch (e) {
      report.check(`${name}: group ran to the end`, [String(e.stack || e)]);
    }
  }
  for (const [name, s] of Object.entries(stats)) {
    if (s && Object.keys(s).length) console.log(`${name}: ${Object.entries(s).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  }
  console.log(`editors: ${report.passed} passed, ${report.failed} failed`);
  process.exitCode = report.failed ? 1 : 0;
}

main();
