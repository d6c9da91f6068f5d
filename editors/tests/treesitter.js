// tree-sitter group: the committed parser is what grammar.js generates, the corpus and
// highlight tests pass (`tree-sitter test`), the corpus uses every node type and is valid
// kload for the pest grammar, every .kload file parses with no ERROR or MISSING node, and
// highlights.scm gives every token the pest grammar finds the capture it must have. The
// Helix and Zed copies of the queries are derived from highlights.scm and must match it.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { EDITORS, GRAMMAR, ROOT, SAMPLE, allFiles, corpusCases } = require('./lib/files');
const { BLESS } = require('./lib/golden');
const { pestRules } = require('./drift');

const TS = process.env.KLOAD_TREE_SITTER || 'tree-sitter';
const ABI = 14;
const DIR = path.join(EDITORS, 'tree-sitter-kload');
const QUERY = path.join(DIR, 'queries', 'highlights.scm');
const OUT_DIR = path.join(__dirname, 'out');
const GENERATED = ['src/parser.c', 'src/grammar.json', 'src/node-types.json', 'src/tree_sitter/parser.h', 'src/tree_sitter/alloc.h', 'src/tree_sitter/array.h'];

// pest rule -> tree-sitter node type, where tree-sitter's conventional name differs.
const NODE_FOR_RULE = {
  file: 'source_file',
  COMMENT: 'comment',
  ident: 'identifier',
  text: 'string_content',
  escape: 'escape_sequence',
  interp: 'interpolation',
};

/** The capture each kind of token must be under (any capture covering the byte). */
const EXPECTED_CAPTURE = {
  keyword: /^keyword/,
  method: /^function\.method$/,
  string: /^string$/,
  property: /^property$/,
  interpolation: /^embedded$/,
  escape: /^string\.escape$/,
  number: /^number$/,
  comment: /^comment$/,
  constant: /^(boolean|constant\.builtin)$/,
  header_name: /^attribute$/,
  parameter: /^variable\.parameter$/,
  metric: /^variable\.builtin$/,
  operator: /^operator$/,
  selector: /^string\.special$/,
  type_name: /^type$/,
  function_name: /^function$/,
  variable_decl: /^variable$/,
  tag: /^label$/,
  function_call: /^function\.call$/,
  variable: /^variable$/,
};

// Helix names some captures differently; its copy of the queries is this file renamed.
const HELIX_NAMES = {
  '@number': '@constant.numeric',
  '@boolean': '@constant.builtin.boolean',
  '@string.escape': '@constant.character.escape',
  '@property': '@variable.other.member',
  '@function.call': '@function',
  '@embedded': '@special',
  '@keyword.conditional': '@keyword.control.conditional',
  '@keyword.repeat': '@keyword.control.repeat',
  '@keyword.modifier': '@keyword.storage.modifier',
};
const DERIVED = [
  { file: path.join(EDITORS, 'helix', 'runtime', 'queries', 'kload', 'highlights.scm'), make: helixQueries },
  { file: path.join(EDITORS, 'zed', 'languages', 'kload', 'highlights.scm'), make: (q) => q },
];

function helixQueries(query) {
  let out = query.replace(/^; Capture names follow[\s\S]*?\n(?=; No two)/m,
    '; Generated from editors/tree-sitter-kload/queries/highlights.scm with Helix\'s capture\n; names (editors/tests/treesitter.js); edit that file, then re-bless.\n');
  for (const [from, to] of Object.entries(HELIX_NAMES)) {
    out = out.split('\n').map((line) => (line.startsWith(';') ? line : line.replace(new RegExp(`${from.replace(/[.]/g, '\\.')}(?![\\w.])`, 'g'), to))).join('\n');
  }
  return out;
}

/** Runs tree-sitter; drops its colours and its warning that no parser directories are configured. */
function ts(args, opts = {}) {
  const r = spawnSync(TS, args, { cwd: DIR, encoding: 'utf8', maxBuffer: 1 << 28, timeout: 300000, ...opts });
  if (r.error) throw new Error(`${TS} ${args.join(' ')}: ${r.error.message}`);
  const clean = (t) => (t || '').replace(/\x1b\[[0-9;]*m/g, '')
    .replace(/Warning: You have not configured any parser directories![\s\S]*?language grammars\.\n*/g, '');
  return { ...r, stdout: clean(r.stdout), stderr: clean(r.stderr) };
}

/** Parses `tree-sitter query` output into capture names per byte offset of `source`. */
function capturesByByte(output, source) {
  const lineStarts = [0];
  for (let i = 0; i < source.length; i++) if (source[i] === 10) lineStarts.push(i + 1);
  const at = Array.from({ length: source.length }, () => []);
  for (const m of output.matchAll(/capture: (?:\d+ - )?([\w.]+), start: \((\d+), (\d+)\), end: \((\d+), (\d+)\)/g)) {
    const start = lineStarts[Number(m[2])] + Number(m[3]);
    const end = lineStarts[Number(m[4])] + Number(m[5]);
    for (let b = start; b < end; b++) at[b].push(m[1]);
  }
  return at;
}

/** Problems of `tree-sitter query` with highlights.scm on a file, against the pest tokens. */
function highlightProblems(abs, tokens) {
  const q = ts(['query', '-p', DIR, QUERY, abs]);
  if (q.status !== 0) return [q.stderr];
  const source = fs.readFileSync(abs);
  const at = capturesByByte(q.stdout, source);
  const problems = [];
  for (const t of tokens) {
    const want = EXPECTED_CAPTURE[t.kind];
    for (let b = t.start; b < t.end; b++) {
      if (source[b] === 10 || source[b] === 13) continue;
      if (!at[b].some((c) => want.test(c))) {
        problems.push(`${lineColOf(source, t.start)} ${t.kind} ${JSON.stringify(t.text.slice(0, 40))} (${t.rule}): byte ${lineColOf(source, b)} has captures [${at[b].join(' ') || 'none'}], wanted ${want}`);
        break;
      }
    }
  }
  return problems;
}

function nvimVersion() {
  const r = spawnSync('nvim', ['--version'], { encoding: 'utf8' });
  return ((r.stdout || '').match(/NVIM v(\S+)/) || [])[1] || '?';
}

function lineColOf(source, offset) {
  const before = source.subarray(0, offset).toString('utf8').split('\n');
  return `${before.length}:${Buffer.byteLength(before[before.length - 1]) + 1}`;
}

async function run(report, oracle) {
  const version = ts(['--version']);
  if (version.status !== 0) throw new Error(`${TS} --version failed: ${version.stderr}`);

  // 1. The committed src/ is what this grammar.js generates.
  const gen = fs.mkdtempSync(path.join(os.tmpdir(), 'kload-ts-'));
  try {
    for (const f of ['grammar.js', 'tree-sitter.json']) fs.copyFileSync(path.join(DIR, f), path.join(gen, f));
    // ABI 14: loads in Neovim 0.9+, Helix and Zed releases still on tree-sitter < 0.25.
    const r = ts(['generate', '--abi', String(ABI)], { cwd: gen });
    if (r.status !== 0) {
      report.check('tree-sitter generate succeeds', [r.stderr || r.stdout]);
      return {};
    }
    const problems = [];
    for (const f of GENERATED) {
      const fresh = fs.readFileSync(path.join(gen, f));
      const committed = path.join(DIR, f);
      if (BLESS) {
        fs.mkdirSync(path.dirname(committed), { recursive: true });
        fs.writeFileSync(committed, fresh);
      } else if (!fs.existsSync(committed) || !fresh.equals(fs.readFileSync(committed))) {
        problems.push(`${path.relative(ROOT, committed)} is not what grammar.js generates (${version.stdout.trim()}): re-bless with KLOAD_BLESS=1 bash editors/test.sh`);
      }
    }
    report.check(`tree-sitter: committed src/ matches grammar.js (${version.stdout.trim()}, ABI ${ABI})`, problems);
  } finally {
    fs.rmSync(gen, { recursive: true, force: true });
  }

  // 2. Derived queries for Helix and Zed.
  const query = fs.readFileSync(QUERY, 'utf8');
  for (const d of DERIVED) {
    const want = d.make(query);
    if (BLESS) {
      fs.mkdirSync(path.dirname(d.file), { recursive: true });
      fs.writeFileSync(d.file, want);
    }
    const have = fs.existsSync(d.file) ? fs.readFileSync(d.file, 'utf8') : null;
    report.check(`tree-sitter: ${path.relative(ROOT, d.file)} is derived from highlights.scm`, have === want ? [] : [`out of date: re-bless with KLOAD_BLESS=1 bash editors/test.sh`]);
  }

  // 3. tree-sitter test: corpus trees and highlight assertions, one result per case.
  const test = ts(BLESS ? ['test', '--update'] : ['test']);
  const lines = `${test.stdout}\n${test.stderr}`.replace(/\x1b\[[0-9;]*m/g, '').split('\n');
  let corpus = 0;
  let highlight = 0;
  let top = '';
  let group = '';
  for (const line of lines) {
    const heading = line.match(/^(\s*)(\S[^:]*):\s*$/);
    if (heading) {
      if (heading[1] === '') [top, group] = [heading[2], ''];
      else group = heading[2];
      continue;
    }
    const m = line.match(/^\s*\d+\.\s+([✓✗])\s+(.*?)(\s+--\s+Warning.*)?$/);
    if (!m) continue;
    const isHighlight = top.startsWith('syntax highlighting');
    if (isHighlight) highlight += 1;
    else corpus += 1;
    const label = isHighlight ? `highlight assertions in test/highlight/${m[2].trim()}` : `corpus ${group}.txt: ${m[2].trim()}`;
    report.check(`tree-sitter test: ${label}`, m[1] === '✓' ? [] : ['failed: run `tree-sitter test` in editors/tree-sitter-kload for the diff']);
  }
  if (test.status !== 0 || corpus === 0) {
    report.check('tree-sitter test exits 0', [`exit ${test.status}`, ...lines.filter((l) => l.trim() && !l.includes('✓') && !/parser directories|init-config|configuration file|language grammars/.test(l)).slice(-30)]);
  }

  // 4. The corpus uses every node type, and its inputs are valid kload for pest.
  const cases = corpusCases();
  const nodeTypes = JSON.parse(fs.readFileSync(path.join(DIR, 'src', 'node-types.json'), 'utf8'))
    .filter((t) => t.named).map((t) => t.type);
  const seen = new Set(cases.flatMap((c) => [...c.expected.matchAll(/\((\w+)/g)].map((m) => m[1])));
  report.check(`tree-sitter: the ${cases.length} corpus cases use all ${nodeTypes.length} node types`, nodeTypes.filter((t) => !seen.has(t)).map((t) => `node type ${t} appears in no corpus case`));
  report.check('tree-sitter: every corpus input parses with grammar/kload.pest', oracle.corpus
    .filter((c) => !oracle.byFile[c.path]).map((c) => `${c.file}: "${c.name}" does not parse with grammar/kload.pest`));

  // 5. Every pest rule has a node of its own (structure drift).
  const pestOnly = pestRules(fs.readFileSync(GRAMMAR, 'utf8')).filter((r) => r !== 'threshold_line')
    .map((r) => NODE_FOR_RULE[r] || r).filter((n) => !nodeTypes.includes(n));
  report.check('tree-sitter: every rule of grammar/kload.pest has a node type of the same name', pestOnly.map((n) => `no node type ${n}`));

  // 6. Shipped files parse without errors, and the highlights agree with the pest grammar.
  let checked = 0;
  for (const file of allFiles()) {
    const abs = path.join(ROOT, file);
    const parsed = ts(['parse', '-p', DIR, abs]);
    const tree = parsed.stdout || '';
    const bad = tree.split('\n').filter((l) => /\((ERROR|MISSING)\b/.test(l));
    report.check(`tree-sitter parse: ${file} has no ERROR or MISSING node`, parsed.status === 0 && bad.length === 0 && tree.includes('(source_file') ? [] : [`exit ${parsed.status}`, ...bad.slice(0, 10), (parsed.stderr || '').trim()].filter(Boolean));
    const o = oracle.byFile[file];
    if (!o) continue;
    checked += o.tokens.length;
    report.check(`tree-sitter highlights match the pest grammar's ${o.tokens.length} tokens: ${file}`, highlightProblems(abs, o.tokens));
  }
  const corpusProblems = [];
  let corpusTokens = 0;
  for (const c of oracle.corpus) {
    const o = oracle.byFile[c.path];
    if (!o) continue;
    corpusTokens += o.tokens.length;
    corpusProblems.push(...highlightProblems(path.join(ROOT, c.path), o.tokens).map((p) => `${c.file} "${c.name}": ${p}`));
  }
  checked += corpusTokens;
  report.check(`tree-sitter highlights match the pest grammar's ${corpusTokens} tokens in the ${oracle.corpus.length} corpus inputs`, corpusProblems);

  // 7. The other queries (folds, the Helix copy) are valid for this grammar too.
  for (const q of [path.join(DIR, 'queries', 'folds.scm'), DERIVED[0].file]) {
    const r = ts(['query', '-q', '-p', DIR, q, SAMPLE]);
    report.check(`tree-sitter: ${path.relative(ROOT, q)} compiles against the grammar`, r.status === 0 ? [] : [r.stderr]);
  }

  // 8. Neovim's own tree-sitter loads the parser `tree-sitter test` compiled and the queries.
  const lib = path.join(process.env.TREE_SITTER_LIBDIR || path.join(os.homedir(), '.cache', 'tree-sitter', 'lib'), 'kload.so');
  if (spawnSync('sh', ['-c', 'command -v nvim'], { stdio: 'ignore' }).status === 0 && fs.existsSync(lib)) {
    const out = path.join(OUT_DIR, 'nvim-tree-sitter.txt');
    fs.rmSync(out, { force: true });
    spawnSync('nvim', ['--headless', '-u', 'NONE', '-i', 'NONE', '-n', '-c', `luafile ${path.join(__dirname, 'tree-sitter', 'nvim-check.lua')}`, '-c', 'qa!'], {
      env: { ...process.env, KLOAD_PARSER: lib, KLOAD_QUERY: QUERY, KLOAD_FILE: SAMPLE, KLOAD_OUT: out }, timeout: 60000, stdio: 'ignore',
    });
    const got = fs.existsSync(out) ? Object.fromEntries(fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => l.split('='))) : { failed: 'no output' };
    const wanted = [...new Set([...query.matchAll(/@([\w.]+)/g)].map((m) => m[1]))];
    const problems = got.failed ? [got.failed] : [
      ...(got.error !== 'false' ? ['the sample parses with errors in Neovim'] : []),
      ...wanted.filter((c) => !got[c]).map((c) => `@${c} never captured`),
    ];
    report.check(`neovim ${nvimVersion()} loads the parser and highlights.scm; the sample parses and uses all ${wanted.length} captures`, problems);
  } else {
    report.check('neovim loads the tree-sitter parser', ['nvim or the compiled parser is missing']);
  }

  return { corpusCases: corpus, highlightTests: highlight, tokensChecked: checked };
}

module.exports = { run, helixQueries };
