// Vim group: loads every .kload file in a headless Vim (`vim -es`) with editors/vim on the
// runtimepath, dumps the syntax item and highlight group under every byte (synID,
// synIDattr, synstack), compares the sample's dump with a golden file, checks every token
// the pest grammar finds, re-indents the sample with the indent file, and repeats the dump
// in Neovim when it is installed.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { EDITORS, ROOT, SAMPLE, allFiles } = require('./lib/files');
const { compareGolden } = require('./lib/golden');
const { lineCol } = require('./lib/oracle');

const RUNTIME = path.join(EDITORS, 'vim');
const DUMP_SCRIPT = path.join(__dirname, 'vim', 'dump.vim');
const OUT_DIR = path.join(__dirname, 'out');
const GOLDEN = path.join(__dirname, 'golden', 'vim', 'sample.kload.groups');

const KEYWORD_LINKS = new Set(['Keyword', 'Statement', 'Operator', 'Exception', 'Conditional', 'Repeat']);
const STRING_ITEMS = new Set(['kloadString', 'kloadPath', 'kloadJsonKey']);

/** What the syntax item under each byte of a token must be. */
const EXPECTED = {
  keyword: (p) => KEYWORD_LINKS.has(p.link),
  method: (p) => p.item === 'kloadMethod',
  string: (p) => p.stack.some((s) => STRING_ITEMS.has(s)),
  property: (p) => p.stack.includes('kloadJsonKey'),
  interpolation: (p) => p.stack.includes('kloadInterp') || p.item === 'kloadInterpDelim',
  escape: (p) => p.item === 'kloadEscape',
  number: (p) => p.link === 'Number',
  comment: (p) => p.stack.includes('kloadComment'),
  constant: (p) => p.item === 'kloadBoolean' || p.item === 'kloadNull',
  header_name: (p) => p.item === 'kloadHeaderName',
  parameter: (p) => p.item === 'kloadParamName' || p.item === 'kloadFormField',
  metric: (p) => p.item === 'kloadMetric',
  operator: (p) => p.item === 'kloadOperator',
  selector: (p) => p.item === 'kloadBareSelector',
  type_name: (p) => p.item === 'kloadTypeName',
  function_name: (p) => p.item === 'kloadFuncName',
  variable_decl: (p) => p.item === 'kloadVarDecl' || p.item === 'kloadLetName',
  tag: (p) => p.item === 'kloadTagName',
  function_call: (p) => p.item === 'kloadCall',
  variable: (p) => p.item === 'kloadVar',
};

/** Runs `editor` on `file` with `call` (a function of dump.vim); returns its output file's text. */
function runEditor(editor, file, call) {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const out = path.join(OUT_DIR, `${editor}-${call}-${path.basename(file)}.txt`);
  fs.rmSync(out, { force: true });
  const head = editor === 'nvim'
    ? ['--headless', '-u', 'NONE', '-i', 'NONE', '-n']
    : ['-N', '-u', 'NONE', '-i', 'NONE', '-n', '-es'];
  const args = [
    ...head,
    '--cmd', `set rtp^=${RUNTIME}`,
    '--cmd', 'filetype plugin indent on',
    '--cmd', 'syntax on',
    '-c', `source ${DUMP_SCRIPT}`,
    '-c', `call ${call}()`,
    '-c', 'if v:errmsg != "" | cquit | endif',
    '-c', 'qa!',
    path.resolve(ROOT, file),
  ];
  const r = spawnSync(editor, args, { env: { ...process.env, KLOAD_SYNOUT: out }, encoding: 'utf8', timeout: 60000, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) throw new Error(`${editor}: ${r.error.message}`);
  if (r.status !== 0 || !fs.existsSync(out)) {
    throw new Error(`${editor} failed on ${file} (exit ${r.status}): ${(r.stdout || '') + (r.stderr || '')}`.trim());
  }
  return fs.readFileSync(out, 'utf8');
}

/** Parses a dump into a map `line:col` -> {item, link, stack}. */
function parseDump(text) {
  const at = new Map();
  for (const row of text.split('\n')) {
    if (!row) continue;
    const [l, c, item, link, stack] = row.split('\t');
    at.set(`${l}:${c}`, { item: item === '-' ? '' : item, link: link === '-' ? '' : link, stack: stack === '-' ? [] : stack.split(',') });
  }
  return at;
}

/**
 * The golden text: each non-blank source line (`> line`), then the runs of bytes under one
 * syntax item as `column "text" item -> Link`. No line numbers, so diffs stay local.
 */
function render(source, at) {
  const out = [];
  source.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    out.push(`> ${line}`);
    const bytes = Buffer.from(line);
    let c = 0;
    while (c < bytes.length) {
      const p = at.get(`${i + 1}:${c + 1}`) || { item: '', link: '' };
      let e = c + 1;
      while (e < bytes.length && (at.get(`${i + 1}:${e + 1}`) || { item: '' }).item === p.item) e += 1;
      const text = bytes.subarray(c, e).toString('utf8');
      if (text.trim() !== '') out.push(`  ${c + 1} ${JSON.stringify(text)} ${p.item || '-'} -> ${p.link || '-'}`);
      c = e;
    }
  });
  return out.join('\n') + '\n';
}

function checkAgainstOracle(bytes, at, tokens) {
  const problems = [];
  for (const o of tokens) {
    const want = EXPECTED[o.kind];
    for (let b = o.start; b < o.end; b++) {
      if (bytes[b] === 10 || bytes[b] === 13) continue;
      const [l, c] = lineCol(bytes, b);
      const p = at.get(`${l}:${c}`) || { item: '', link: '', stack: [] };
      if (!want(p)) {
        const [tl, tc] = lineCol(bytes, o.start);
        problems.push(`${tl}:${tc} ${o.kind} ${JSON.stringify(o.text.slice(0, 40))} (${o.rule}): byte ${l}:${c} is ${p.item || 'no item'} -> ${p.link || '-'} [${p.stack.join(',')}]`);
        break;
      }
    }
  }
  return problems;
}

function hasCommand(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

async function run(report, oracle) {
  const sample = path.relative(ROOT, SAMPLE);
  let checked = 0;
  for (const file of allFiles()) {
    let dump;
    try {
      dump = runEditor('vim', file, 'KloadSynDump');
    } catch (e) {
      report.check(`vim highlights ${file}`, [e.message]);
      continue;
    }
    const at = parseDump(dump);
    const source = fs.readFileSync(path.join(ROOT, file));
    if (file === sample) {
      report.check(`vim golden highlight groups: ${file}`, compareGolden(GOLDEN, render(source.toString('utf8'), at), file));
    }
    const o = oracle.byFile[file];
    if (o) {
      checked += o.tokens.length;
      report.check(`vim groups match the pest grammar's ${o.tokens.length} tokens: ${file}`, checkAgainstOracle(source, at, o.tokens));
    }
  }

  const corpusProblems = [];
  let corpusTokens = 0;
  for (const c of oracle.corpus) {
    const o = oracle.byFile[c.path];
    if (!o) continue;
    try {
      const at = parseDump(runEditor('vim', c.path, 'KloadSynDump'));
      corpusTokens += o.tokens.length;
      corpusProblems.push(...checkAgainstOracle(fs.readFileSync(path.join(ROOT, c.path)), at, o.tokens).map((p) => `${c.file} "${c.name}": ${p}`));
    } catch (e) {
      corpusProblems.push(`${c.file} "${c.name}": ${e.message}`);
    }
  }
  checked += corpusTokens;
  report.check(`vim groups match the pest grammar's ${corpusTokens} tokens in the ${oracle.corpus.length} tree-sitter corpus inputs`, corpusProblems);

  // The indent file puts every line of the sample back where it was, from no indentation.
  try {
    const original = fs.readFileSync(SAMPLE, 'utf8');
    const flat = path.join(OUT_DIR, 'flat-sample.kload');
    fs.mkdirSync(OUT_DIR, { recursive: true });
    fs.writeFileSync(flat, original.replace(/^[ \t]+/gm, ''));
    const reindented = runEditor('vim', flat, 'KloadReindent');
    const a = original.split('\n');
    const b = reindented.split('\n');
    const problems = [];
    a.forEach((line, i) => {
      if (line.trim() !== '' && line !== b[i]) problems.push(`line ${i + 1}: ${JSON.stringify(line)} became ${JSON.stringify(b[i])}`);
    });
    report.check(`vim indent file re-indents ${sample} from flush-left lines exactly (gg=G)`, problems);
  } catch (e) {
    report.check(`vim indent file re-indents ${sample} from flush-left lines exactly (gg=G)`, [e.message]);
  }

  // Neovim reads the same runtime files; its dump must be the same as Vim's.
  if (hasCommand('nvim')) {
    try {
      const vimDump = runEditor('vim', sample, 'KloadSynDump');
      const nvimDump = runEditor('nvim', sample, 'KloadSynDump');
      const a = vimDump.split('\n');
      const b = nvimDump.split('\n');
      const problems = [];
      for (let i = 0; i < Math.max(a.length, b.length) && problems.length < 10; i++) {
        if (a[i] !== b[i]) problems.push(`vim:  ${a[i]}\nnvim: ${b[i]}`);
      }
      report.check(`neovim highlights ${sample} exactly as vim does`, problems);
    } catch (e) {
      report.check(`neovim highlights ${sample} exactly as vim does`, [e.message]);
    }
  } else {
    report.check('neovim is installed (editors/test.sh installs it)', ['nvim not found']);
  }
  return { tokensChecked: checked };
}

module.exports = { run };
