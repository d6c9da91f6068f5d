// VS Code group: the extension's manifest points at files that exist, every snippet expands
// to valid kload (for the pest grammar) in the place it is meant for, the indentation rules
// of language-configuration.json reproduce the sample's indentation, ```kload blocks in
// Markdown are highlighted, extension.js starts the language server (or says once that it
// cannot, and leaves highlighting alone), and the .vsix builds with the command
// editors/README.md gives.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const Module = require('module');
const { spawnSync } = require('child_process');
const { EDITORS, ROOT, SAMPLE } = require('./lib/files');
const { expectations } = require('./lib/oracle');

const EXT = path.join(EDITORS, 'vscode');
const OUT_DIR = path.join(__dirname, 'out');
const readJson = (f) => JSON.parse(fs.readFileSync(f, 'utf8'));

// Where a snippet may be inserted: at the top level, in a user class, among a task's
// steps, or among a request's items.
const CONTEXTS = [
  (s) => s,
  (s) => `user U {\n${s}\n}\n`,
  (s) => `user U {\ntask t {\n${s}\n}\n}\n`,
  (s) => `user U {\ntask t {\nGET "/" {\n${s}\n}\n}\n}\n`,
];

/**
 * Expands a VS Code snippet body with its default values. `choose(i)` picks the option of
 * the i-th choice placeholder. Returns {text, choices: [number of options per choice]}.
 */
function expandSnippet(body, choose = () => 0) {
  const src = body;
  const values = {};
  const choices = [];
  let i = 0;
  const parse = (stopAtBrace) => {
    let out = '';
    while (i < src.length) {
      const c = src[i];
      if (c === '\\' && i + 1 < src.length && '$}\\'.includes(src[i + 1])) {
        out += src[i + 1];
        i += 2;
      } else if (stopAtBrace && c === '}') {
        return out;
      } else if (c === '$' && /[0-9]/.test(src[i + 1] || '')) {
        const m = src.slice(i + 1).match(/^[0-9]+/)[0];
        i += 1 + m.length;
        out += values[m] || '';
      } else if (c === '$' && src[i + 1] === '{') {
        const m = src.slice(i + 2).match(/^([0-9]+)([:|}])/);
        if (!m) throw new Error(`unsupported snippet syntax at ${JSON.stringify(src.slice(i, i + 20))}`);
        i += 2 + m[1].length + 1;
        let value = '';
        if (m[2] === ':') {
          value = parse(true);
          i += 1; // the closing }
        } else if (m[2] === '|') {
          const end = src.indexOf('|}', i);
          const options = src.slice(i, end).split(/(?<!\\),/).map((o) => o.replace(/\\([,|\\])/g, '$1'));
          value = options[choose(choices.length)] ?? options[0];
          choices.push(options.length);
          i = end + 2;
        } else {
          value = values[m[1]] || '';
        }
        if (!(m[1] in values)) values[m[1]] = value;
        out += value;
      } else {
        out += c;
        i += 1;
      }
    }
    return out;
  };
  return { text: parse(false), choices };
}

/** Every expansion worth parsing: defaults, then each option of each choice. */
function expansions(body) {
  const base = expandSnippet(body);
  const all = [base.text];
  base.choices.forEach((n, which) => {
    for (let opt = 1; opt < n; opt++) all.push(expandSnippet(body, (k) => (k === which ? opt : 0)).text);
  });
  return all;
}

function checkManifest() {
  const pkg = readJson(path.join(EXT, 'package.json'));
  const problems = [];
  const c = pkg.contributes || {};
  const lang = (c.languages || []).find((l) => l.id === 'kload');
  if (!lang) problems.push('no language with id kload');
  else {
    if (!(lang.extensions || []).includes('.kload')) problems.push('the kload language does not claim .kload files');
    if (!fs.existsSync(path.join(EXT, lang.configuration || ''))) problems.push(`missing ${lang.configuration}`);
  }
  for (const g of c.grammars || []) {
    const f = path.join(EXT, g.path);
    if (!fs.existsSync(f)) problems.push(`missing grammar ${g.path}`);
    else if (readJson(f).scopeName !== g.scopeName) problems.push(`${g.path} has scopeName ${readJson(f).scopeName}, package.json says ${g.scopeName}`);
  }
  if (!(c.grammars || []).some((g) => g.language === 'kload' && g.scopeName === 'source.kload')) problems.push('no source.kload grammar for the kload language');
  for (const s of c.snippets || []) if (!fs.existsSync(path.join(EXT, s.path))) problems.push(`missing snippets ${s.path}`);
  for (const k of ['name', 'publisher', 'version', 'engines']) if (!pkg[k]) problems.push(`package.json has no ${k}`);
  if (!fs.existsSync(path.join(EXT, pkg.main || ''))) problems.push(`missing main ${pkg.main}`);
  if (!(pkg.activationEvents || []).includes('onLanguage:kload')) problems.push('the extension is not activated by kload files');
  const setting = c.configuration?.properties?.['kload.server.path'];
  if (setting?.type !== 'string' || setting?.default !== 'kload') problems.push('no kload.server.path setting (a string, default "kload")');
  if (!pkg.dependencies?.['vscode-languageclient']) problems.push('vscode-languageclient is not a dependency');
  const conf = readJson(path.join(EXT, 'language-configuration.json'));
  if (conf.comments?.lineComment !== '#') problems.push('line comments are not #');
  return problems;
}

function checkIndentationRules() {
  const conf = readJson(path.join(EXT, 'language-configuration.json'));
  const increase = new RegExp(conf.indentationRules.increaseIndentPattern);
  const decrease = new RegExp(conf.indentationRules.decreaseIndentPattern);
  const problems = [];
  let level = 0;
  let prev = null;
  fs.readFileSync(SAMPLE, 'utf8').split('\n').forEach((line, n) => {
    if (line.trim() === '') return;
    if (prev !== null && increase.test(prev)) level += 1;
    if (decrease.test(line)) level -= 1;
    const actual = line.match(/^ */)[0].length / 2;
    if (actual !== level) problems.push(`line ${n + 1}: the rules give level ${level}, the sample has ${actual}: ${line.trim()}`);
    level = actual;
    prev = line;
  });
  return problems;
}

async function checkMarkdownInjection() {
  const vsctm = require('vscode-textmate');
  const oniguruma = require('vscode-oniguruma');
  const wasm = fs.readFileSync(path.join(path.dirname(require.resolve('vscode-oniguruma')), 'onig.wasm')).buffer;
  await oniguruma.loadWASM(wasm);
  const files = { 'markdown.kload.codeblock': 'kload.markdown.tmLanguage.json', 'source.kload': 'kload.tmLanguage.json' };
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({ createOnigScanner: (p) => new oniguruma.OnigScanner(p), createOnigString: (s) => new oniguruma.OnigString(s) }),
    loadGrammar: async (scope) => (files[scope] ? vsctm.parseRawGrammar(fs.readFileSync(path.join(EXT, 'syntaxes', files[scope]), 'utf8'), files[scope]) : null),
  });
  const grammar = await registry.loadGrammar('markdown.kload.codeblock');
  const lines = ['Some text', '```kload', 'scenario "x" { timeout 30s }', '```', 'check status 200'];
  let stack = vsctm.INITIAL;
  const scopesOf = {};
  lines.forEach((line, n) => {
    const r = grammar.tokenizeLine(line, stack);
    for (const t of r.tokens) scopesOf[`${n}:${line.slice(t.startIndex, t.endIndex)}`] = t.scopes.join(' ');
    stack = r.ruleStack;
  });
  const problems = [];
  const want = (key, re) => { if (!re.test(scopesOf[key] || '')) problems.push(`${key} has scopes [${scopesOf[key] || 'none'}], wanted ${re}`); };
  want('2:scenario', /meta\.embedded\.block\.kload .*keyword\.control/);
  want('2:30', /constant\.numeric/);
  want('4:check status 200', /^markdown\.kload\.codeblock$/);
  return problems;
}

/**
 * Runs extension.js against stand-ins for the `vscode` and `vscode-languageclient/node`
 * modules: what it shows and which server it starts, for a missing binary, a binary that
 * exists, and one whose start fails.
 */
async function checkExtension() {
  const problems = [];
  const shown = [];
  const clients = [];
  let setting;
  let startFails = false;
  const vscode = {
    workspace: {
      getConfiguration: (section) => ({ get: (key) => (section === 'kload' && key === 'server.path' ? setting : undefined) }),
      onDidChangeConfiguration: () => ({ dispose() {} }),
    },
    window: {
      showWarningMessage: (m) => shown.push(m),
      showErrorMessage: (m) => shown.push(m),
      showInformationMessage: (m) => shown.push(m),
    },
  };
  class LanguageClient {
    constructor(id, name, server, options) {
      this.started = false;
      clients.push({ id, server, options, client: this });
    }
    async start() {
      if (startFails) throw new Error('the server exited');
      this.started = true;
    }
    async stop() {}
  }
  const languageclient = { LanguageClient, TransportKind: { stdio: 0 } };
  const load = Module._load;
  Module._load = function (request, ...rest) {
    if (request === 'vscode') return vscode;
    if (request === 'vscode-languageclient/node') return languageclient;
    return load.call(this, request, ...rest);
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kload-ext-'));
  try {
    const file = path.join(EXT, 'extension.js');
    delete require.cache[require.resolve(file)];
    const ext = require(file);
    const context = () => ({ subscriptions: [] });

    setting = path.join(dir, 'missing', 'kload');
    await ext.activate(context());
    if (shown.length !== 1 || !/not found/.test(shown[0] || '') || !/Highlighting still works/.test(shown[0] || '')) {
      problems.push(`a missing binary must give one message saying highlighting still works; got ${JSON.stringify(shown)}`);
    }
    if (clients.length) problems.push('a client was created for a missing binary');
    await ext.deactivate();

    const bin = path.join(dir, 'kload');
    fs.writeFileSync(bin, '#!/bin/sh\n', { mode: 0o755 });
    setting = bin;
    shown.length = 0;
    await ext.activate(context());
    const c = clients[0];
    if (!c) problems.push('no client was created for an existing binary');
    else {
      if (c.server.command !== bin || JSON.stringify(c.server.args) !== '["lsp"]') problems.push(`the server command is ${JSON.stringify(c.server)}`);
      if (c.options.documentSelector?.[0]?.language !== 'kload') problems.push('the client does not serve kload documents');
      if (!c.client.started) problems.push('the client was not started');
    }
    if (shown.length) problems.push(`messages shown for a working server: ${JSON.stringify(shown)}`);
    await ext.deactivate();

    startFails = true;
    await ext.activate(context()).catch((e) => problems.push(`activate threw when the server failed: ${e}`));
    if (shown.length) problems.push(`the extension added its own message to the client's: ${JSON.stringify(shown)}`);
    await ext.deactivate();

    if (ext.findExecutable('kload', { PATH: `${path.join(dir, 'none')}${path.delimiter}${dir}` }) !== bin) problems.push('kload is not found on PATH');
    if (ext.findExecutable('kload', { PATH: path.join(dir, 'none') }) !== undefined) problems.push('a binary was found where there is none');
  } finally {
    Module._load = load;
    fs.rmSync(dir, { recursive: true, force: true });
  }
  try {
    require.resolve('vscode-languageclient/node', { paths: [EXT] });
  } catch (e) {
    problems.push(`vscode-languageclient is not installed in editors/vscode: ${e.message}`);
  }
  return problems;
}

function checkVsix() {
  const vsce = path.join(EDITORS, 'node_modules', '.bin', 'vsce');
  const out = path.join(OUT_DIR, 'kload.vsix');
  fs.mkdirSync(OUT_DIR, { recursive: true });
  fs.rmSync(out, { force: true });
  // The command of editors/README.md, with the output put out of the way.
  const r = spawnSync(vsce, ['package', '--allow-missing-repository', '--skip-license', '--out', out], { cwd: EXT, encoding: 'utf8', timeout: 120000 });
  if (r.status !== 0) return [`vsce package failed (exit ${r.status}): ${r.stdout}${r.stderr}`];
  const list = spawnSync('python3', ['-c', 'import sys, zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', out], { encoding: 'utf8' });
  const names = list.stdout.split('\n');
  const need = ['extension/package.json', 'extension/language-configuration.json', 'extension/syntaxes/kload.tmLanguage.json',
    'extension/syntaxes/kload.markdown.tmLanguage.json', 'extension/snippets/kload.code-snippets', 'extension/extension.js',
    'extension/node_modules/vscode-languageclient/package.json', 'extension/node_modules/vscode-jsonrpc/package.json'];
  return need.filter((n) => !names.includes(n)).map((n) => `${n} is not in the .vsix`);
}

async function run(report) {
  report.check('vscode: package.json contributes the language, grammars and snippets it names', checkManifest());

  const snippets = readJson(path.join(EXT, 'snippets', 'kload.code-snippets'));
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const attempts = [];
  for (const [name, s] of Object.entries(snippets)) {
    const body = Array.isArray(s.body) ? s.body.join('\n') : s.body;
    expansions(body).forEach((text, v) => {
      const files = CONTEXTS.map((wrap, k) => {
        const f = path.join(OUT_DIR, `snippet-${Object.keys(snippets).indexOf(name)}-${v}-${k}.kload`);
        fs.writeFileSync(f, wrap(text));
        return path.relative(ROOT, f);
      });
      attempts.push({ name, text, files });
    });
  }
  const parsed = expectations(attempts.flatMap((a) => a.files));
  const ok = new Set(Object.keys(parsed.byFile));
  for (const name of Object.keys(snippets)) {
    const mine = attempts.filter((a) => a.name === name);
    const bad = mine.filter((a) => !a.files.some((f) => ok.has(f)));
    report.check(`vscode snippet "${name}" expands to valid kload (${mine.length} variant${mine.length > 1 ? 's' : ''})`,
      bad.map((a) => `does not parse in any context:\n${a.text}`));
  }

  report.check('vscode: indentation rules of language-configuration.json reproduce the sample', checkIndentationRules());
  report.check('vscode: ```kload blocks in Markdown are highlighted', await checkMarkdownInjection());
  report.check('vscode: extension.js starts `kload lsp`, or says once that it cannot and leaves highlighting alone', await checkExtension());
  report.check('vscode: the .vsix builds (vsce package) and holds the grammar, configuration, snippets and the language client', checkVsix());
  return { snippets: Object.keys(snippets).length };
}

module.exports = { run, expandSnippet, checkExtension };
