// TextMate (VS Code) group: tokenizes every .kload file with vscode-textmate and
// vscode-oniguruma (offline), compares the scopes with golden files, and checks every
// token the pest grammar finds (keywords, strings, numbers, interpolations, ...) against
// the scope it must have.
'use strict';
const fs = require('fs');
const path = require('path');
const { EDITORS, ROOT, allFiles } = require('./lib/files');
const { compareGolden, staleGoldens } = require('./lib/golden');
const { byteToUtf16, lineCol } = require('./lib/oracle');

const GRAMMAR_FILE = path.join(EDITORS, 'vscode', 'syntaxes', 'kload.tmLanguage.json');
const GOLDEN_DIR = path.join(EDITORS, 'tests', 'golden', 'textmate');

/** What the innermost matching scope of each kind of token must look like. */
const EXPECTED_SCOPE = {
  keyword: /^keyword\./,
  method: /^support\.function\.method\.kload$/,
  string: /^string\./,
  property: /^support\.type\.property-name\.json$/,
  interpolation: /^meta\.interpolation\.kload$/,
  escape: /^constant\.character\.escape\.kload$/,
  number: /^constant\.numeric\./,
  comment: /^comment\.line\.number-sign\.kload$/,
  constant: /^constant\.language\./,
  header_name: /^entity\.other\.attribute-name\.header\.kload$/,
  parameter: /^variable\.parameter\.kload$/,
  metric: /^support\.variable\.metric\.kload$/,
  operator: /^keyword\.operator\.comparison\.kload$/,
  selector: /^string\.unquoted\.selector\.kload$/,
  type_name: /^entity\.name\.type\./,
  function_name: /^entity\.name\.function\.kload$/,
  variable_decl: /^entity\.name\.variable\.kload$/,
  tag: /^entity\.name\.tag\.kload$/,
  function_call: /^entity\.name\.function\.kload$/,
  variable: /^variable\.other\./,
};

async function loadGrammar() {
  const vsctm = require('vscode-textmate');
  const oniguruma = require('vscode-oniguruma');
  const wasm = fs.readFileSync(path.join(path.dirname(require.resolve('vscode-oniguruma')), 'onig.wasm')).buffer;
  await oniguruma.loadWASM(wasm);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName) => (scopeName === 'source.kload'
      ? vsctm.parseRawGrammar(fs.readFileSync(GRAMMAR_FILE, 'utf8'), GRAMMAR_FILE)
      : null),
  });
  return { vsctm, registry, grammar: await registry.loadGrammar('source.kload') };
}

/** Tokenizes `text`; returns tokens {line, start, end, text, scopes} (UTF-16 columns within the line). */
function tokenize(vsctm, grammar, text) {
  const tokens = [];
  let stack = vsctm.INITIAL;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    const r = grammar.tokenizeLine(line, stack);
    for (const t of r.tokens) {
      tokens.push({ line: i, start: t.startIndex, end: Math.min(t.endIndex, line.length), text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes.slice(1) });
    }
    stack = r.ruleStack;
  });
  return tokens;
}

/**
 * The golden text: each non-blank source line (`> line`), then its non-blank tokens as
 * `column "text" scopes`. No line numbers, so adding a line to a file changes only its part.
 */
function render(text, tokens) {
  const lines = text.split('\n');
  const out = [];
  let current = -1;
  for (const t of tokens) {
    if (t.text.trim() === '') continue;
    if (t.line !== current) {
      current = t.line;
      out.push(`> ${lines[t.line].replace(/\r$/, '')}`);
    }
    out.push(`  ${t.start + 1} ${JSON.stringify(t.text)} ${t.scopes.join(' ') || '-'}`);
  }
  return out.join('\n') + '\n';
}

/** Scopes of each UTF-16 index of the file (null for line breaks). */
function scopesByIndex(text, tokens) {
  const at = new Array(text.length).fill(null);
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  for (const t of tokens) {
    for (let c = t.start; c < t.end; c++) at[lineStarts[t.line] + c] = t.scopes;
  }
  return at;
}

/** Checks each oracle token; returns [problems, count of tokens checked]. */
function checkAgainstOracle(text, tokens, oracleTokens) {
  const bytes = Buffer.from(text);
  const map = byteToUtf16(text);
  const at = scopesByIndex(text, tokens);
  const problems = [];
  for (const o of oracleTokens) {
    const want = EXPECTED_SCOPE[o.kind];
    for (let i = map[o.start]; i < map[o.end]; i++) {
      if (text[i] === '\n' || text[i] === '\r') continue;
      const scopes = at[i] || [];
      if (!scopes.some((s) => want.test(s))) {
        const [l, c] = lineCol(bytes, o.start);
        problems.push(`${l}:${c} ${o.kind} ${JSON.stringify(o.text.slice(0, 40))} (${o.rule}): character ${JSON.stringify(text[i])} has scopes [${scopes.join(' ') || 'none'}], wanted ${want}`);
        break;
      }
    }
  }
  return [problems, oracleTokens.length];
}

async function run(report, oracle) {
  const { vsctm, grammar } = await loadGrammar();
  const files = allFiles();
  let checked = 0;
  const goldens = [];
  for (const file of files) {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    const tokens = tokenize(vsctm, grammar, text);
    const goldenPath = path.join(GOLDEN_DIR, path.basename(file) === 'sample.kload' && file.startsWith('editors') ? 'sample.kload.scopes' : `${file}.scopes`);
    goldens.push(goldenPath);
    report.check(`textmate golden scopes: ${file}`, compareGolden(goldenPath, render(text, tokens), file));
    const o = oracle.byFile[file];
    if (!o) {
      report.check(`textmate scopes match the pest grammar's tokens: ${file}`, ['the file does not parse with grammar/kload.pest']);
      continue;
    }
    const [problems, n] = checkAgainstOracle(text, tokens, o.tokens);
    checked += n;
    report.check(`textmate scopes match the pest grammar's ${n} tokens: ${file}`, problems);
  }
  const corpusProblems = [];
  let corpusTokens = 0;
  for (const c of oracle.corpus) {
    const o = oracle.byFile[c.path];
    if (!o) continue;
    const text = fs.readFileSync(path.join(ROOT, c.path), 'utf8');
    const [problems, n] = checkAgainstOracle(text, tokenize(vsctm, grammar, text), o.tokens);
    corpusTokens += n;
    corpusProblems.push(...problems.map((p) => `${c.file} "${c.name}": ${p}`));
  }
  checked += corpusTokens;
  report.check(`textmate scopes match the pest grammar's ${corpusTokens} tokens in the ${oracle.corpus.length} tree-sitter corpus inputs`, corpusProblems);
  report.check('textmate: no stale golden files', staleGoldens(GOLDEN_DIR, goldens).map((f) => `stale golden ${f}: its .kload file is gone (re-bless to remove)`));
  return { tokensChecked: checked };
}

module.exports = { run, loadGrammar, tokenize };
