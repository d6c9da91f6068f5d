// Ground truth for the highlighting checks: parses files with grammar/kload.pest itself
// (through the small pest_vm program in editors/tests/oracle) and lists, for every token the
// editors must colour, its byte span and what it is ("keyword", "string", "number", ...).
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { GRAMMAR, ROOT } = require('./files');

const ORACLE_BIN = process.env.KLOAD_ORACLE
  || path.join(__dirname, '..', 'oracle', 'target', 'release', 'kload-token-oracle');

// What an `ident` is, by the rule it sits directly in.
const IDENT_KIND = {
  user_block: 'type_name',
  task_block: 'function_name',
  sequence_block: 'function_name',
  data_decl: 'variable_decl',
  let_stmt: 'variable_decl',
  capture: 'variable_decl',
  tags_option: 'tag',
  tag_selector: 'tag',
  call: 'function_call',
  var_ref: 'variable',
};

// What other rules are; rules not listed here are structure, not tokens.
const RULE_KIND = {
  method: 'method',
  string: 'string',
  interp: 'interpolation',
  escape: 'escape',
  quantity: 'number',
  status_code: 'number',
  COMMENT: 'comment',
  boolean: 'constant',
  null: 'constant',
  header_name: 'header_name',
  param_word: 'parameter',
  metric: 'metric',
  compare_op: 'operator',
  bare_selector: 'selector',
};

/**
 * Parses `files` (relative to the repository root) and returns
 * { byFile: {file: {tokens: [{kind, rule, start, end, text}], rules: Set}}, errors: [..] }.
 */
function expectations(files) {
  let out;
  try {
    out = execFileSync(ORACLE_BIN, [GRAMMAR, ...files], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 28 });
  } catch (e) {
    if (e.code === 'ENOENT') throw new Error(`oracle not built: ${ORACLE_BIN}`);
    out = e.stdout || '';
  }
  const pairs = {};
  const errors = [];
  for (const line of out.split('\n')) {
    if (!line) continue;
    const [file, rule, a, b] = line.split('\t');
    if (rule === '!error') {
      errors.push(`${file} does not parse with grammar/kload.pest: ${a}`);
      continue;
    }
    (pairs[file] ||= []).push({ rule, start: Number(a), end: Number(b) });
  }
  const byFile = {};
  for (const file of files) {
    if (!pairs[file]) continue;
    const bytes = fs.readFileSync(path.join(ROOT, file));
    byFile[file] = { tokens: classify(pairs[file], bytes), rules: new Set(pairs[file].map((p) => p.rule)) };
  }
  return { byFile, errors };
}

/** Pairs come in pre-order; a stack of open pairs gives each pair's parent. */
function classify(pairs, bytes) {
  const tokens = [];
  const stack = [];
  for (const p of pairs) {
    while (stack.length && !(p.start >= stack[stack.length - 1].start && p.end <= stack[stack.length - 1].end && p !== stack[stack.length - 1])) {
      stack.pop();
    }
    const parent = stack.length ? stack[stack.length - 1] : null;
    let kind = null;
    if (p.rule.startsWith('kw_')) kind = 'keyword';
    else if (p.rule === 'ident') kind = parent ? IDENT_KIND[parent.rule] || null : null;
    else if (p.rule === 'string' && parent && parent.rule === 'json_member' && parent.start === p.start) kind = 'property';
    else kind = RULE_KIND[p.rule] || null;
    if (kind && p.end > p.start) {
      tokens.push({ kind, rule: p.rule, start: p.start, end: p.end, text: bytes.subarray(p.start, p.end).toString('utf8') });
    }
    stack.push(p);
  }
  return tokens;
}

/** Maps byte offsets of `text` to UTF-16 indices (for JavaScript strings). */
function byteToUtf16(text) {
  const map = [];
  let u = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    for (let i = 0; i < n; i++) map.push(u);
    u += ch.length;
  }
  map.push(u);
  return map;
}

/** Line (1-based) and byte column (1-based) of a byte offset. */
function lineCol(bytes, offset) {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (bytes[i] === 10) {
      line += 1;
      lineStart = i + 1;
    }
  }
  return [line, offset - lineStart + 1];
}

module.exports = { expectations, byteToUtf16, lineCol, ORACLE_BIN };
