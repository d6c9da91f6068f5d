// Drift group: every keyword literal of grammar/kload.pest must be in each of the three
// editor grammars, and the sample must use every rule and keyword of the pest grammar (so
// the highlighting checks of the other groups see each of them at least once).
'use strict';
const fs = require('fs');
const path = require('path');
const { EDITORS, GRAMMAR, ROOT, SAMPLE } = require('./lib/files');

/** Word literals of the pest grammar ("scenario", "true", ...), comments left out. */
function pestKeywords(text) {
  const code = text.split('\n').map((l) => l.replace(/^\s*\/\/.*$/, '')).join('\n');
  const words = new Set();
  for (const m of code.matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
    if (/^[a-z_][a-z0-9_]+$/.test(m[1])) words.add(m[1]);
  }
  return [...words].sort();
}

/** Names of the pest rules that produce pairs (not silent `_{`), keywords left out. */
function pestRules(text) {
  const rules = [];
  for (const m of text.matchAll(/^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([_@$!]?)\{/gm)) {
    if (m[2] !== '_' && !m[1].startsWith('kw_')) rules.push(m[1]);
  }
  return rules;
}

const wordIn = (word, text) => new RegExp(`(?<![A-Za-z0-9_])${word}(?![A-Za-z0-9_])`).test(text);

/** All regular expressions of a TextMate grammar, joined. */
function textmateRegexes(grammar) {
  const out = [];
  const walk = (node) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (['match', 'begin', 'end', 'while'].includes(k) && typeof v === 'string') out.push(v);
        else walk(v);
      }
    }
  };
  walk(grammar);
  // `\bnull\b`: drop escapes such as \b and \s so that they do not glue letters to a word.
  return out.join('\n').replace(/\\[A-Za-z]/g, ' ');
}

const VIM_OPTIONS = new Set(['contained', 'skipwhite', 'skipnl', 'skipempty', 'transparent', 'display', 'fold', 'extend', 'conceal', 'oneline', 'keepend', 'excludenl']);

/** Words Vim highlights: `:syn keyword` lists and `\<word\>` in `:syn match` patterns. */
function vimWords(text) {
  const words = new Set();
  for (const line of text.split('\n')) {
    const kw = line.match(/^\s*syn(?:tax)?\s+keyword\s+\S+\s+(.*)$/);
    if (kw) {
      for (const w of kw[1].split(/\s+/)) if (w && !w.includes('=') && !VIM_OPTIONS.has(w)) words.add(w);
    }
    const match = line.match(/^\s*syn(?:tax)?\s+match\s+\S+\s+(.*)$/);
    if (match) for (const m of match[1].matchAll(/\\<([a-z_]+)\\>/g)) words.add(m[1]);
  }
  return words;
}

/** String literals of a tree-sitter grammar.js ('scenario', "true", ...). */
function treeSitterLiterals(text) {
  const words = new Set();
  for (const m of text.matchAll(/'([a-z_][a-z0-9_]*)'|"([a-z_][a-z0-9_]*)"/g)) words.add(m[1] || m[2]);
  return words;
}

async function run(report, oracle) {
  const pest = fs.readFileSync(GRAMMAR, 'utf8');
  const keywords = pestKeywords(pest);
  const tm = textmateRegexes(JSON.parse(fs.readFileSync(path.join(EDITORS, 'vscode', 'syntaxes', 'kload.tmLanguage.json'), 'utf8')));
  const vim = vimWords(fs.readFileSync(path.join(EDITORS, 'vim', 'syntax', 'kload.vim'), 'utf8'));
  const ts = treeSitterLiterals(fs.readFileSync(path.join(EDITORS, 'tree-sitter-kload', 'grammar.js'), 'utf8'));
  const tsQuery = fs.readFileSync(path.join(EDITORS, 'tree-sitter-kload', 'queries', 'highlights.scm'), 'utf8');
  // In highlights.scm a keyword is a quoted literal, or the node of a one-keyword rule
  // such as (negation) for "not"; the node check is done by the tree-sitter group.
  const missing = (has) => keywords.filter((k) => !has(k)).map((k) => `keyword "${k}" of grammar/kload.pest is missing`);
  report.check(`drift: all ${keywords.length} keyword literals of grammar/kload.pest are in the TextMate grammar`, missing((k) => wordIn(k, tm)));
  report.check(`drift: all ${keywords.length} keyword literals of grammar/kload.pest are in the Vim syntax file`, missing((k) => vim.has(k)));
  report.check(`drift: all ${keywords.length} keyword literals of grammar/kload.pest are in the tree-sitter grammar`, missing((k) => ts.has(k)));
  report.check('drift: every keyword literal in tree-sitter highlights.scm is a keyword of grammar/kload.pest', [...tsQuery.matchAll(/"([a-z_][a-z0-9_]*)"/g)].map((m) => m[1]).filter((w) => !keywords.includes(w)).map((w) => `"${w}" is not in grammar/kload.pest`));

  const sample = path.relative(ROOT, SAMPLE);
  const used = oracle.byFile[sample];
  if (!used) {
    report.check(`drift: ${sample} uses every rule and keyword of grammar/kload.pest`, [`${sample} does not parse`]);
  } else {
    const words = new Set(used.tokens.filter((t) => t.kind === 'keyword' || t.kind === 'constant').map((t) => t.text));
    const problems = [
      ...pestRules(pest).filter((r) => r !== 'threshold_line' && !used.rules.has(r)).map((r) => `rule ${r} is never used`),
      ...keywords.filter((k) => !words.has(k)).map((k) => `keyword "${k}" is never used`),
    ];
    report.check(`drift: ${sample} uses every rule and keyword of grammar/kload.pest`, problems);
  }
  return { keywords: keywords.length };
}

module.exports = { run, pestKeywords, pestRules };
