// Language server group: Neovim's built-in LSP client (headless) starts `kload lsp`
// ($KLOAD_BIN), opens a scenario with a misspelt variable and messy layout, and must get the
// compiler's diagnostic, completions that fit the cursor, a hover, the quick fix (applied
// through the client, so the server follows the change) and `kload fmt`'s layout.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const SCRIPT = path.join(__dirname, 'lsp', 'nvim-lsp.lua');

const SCENARIO = `data accounts from "accounts.csv"

user Member {
  task projects {
    GET "/projects/" {
      capture project_id = jsonpath "$[0].id"
    }
    GET "/projects/{{ projct_id }}/{{ accounts.username }}"   {   check status 200 }
  }
}
`;

function runNeovim(dir, bin) {
  const file = path.join(dir, 'member.kload');
  const out = path.join(dir, 'out.txt');
  const formatted = path.join(dir, 'formatted.kload');
  fs.writeFileSync(file, SCENARIO);
  fs.writeFileSync(path.join(dir, 'accounts.csv'), 'username,password\nu1,p1\n');
  const r = spawnSync('nvim', ['--headless', '-u', 'NONE', '-i', 'NONE', '-n', '-c', `luafile ${SCRIPT}`], {
    env: { ...process.env, KLOAD_BIN: bin, KLOAD_FILE: file, KLOAD_OUT: out, KLOAD_FORMATTED: formatted },
    encoding: 'utf8',
    timeout: 60000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = fs.existsSync(out) ? fs.readFileSync(out, 'utf8').split('\n').filter(Boolean) : [];
  const seen = {};
  for (const line of lines) {
    const at = line.indexOf('=');
    const key = line.slice(0, at);
    (seen[key] = seen[key] || []).push(line.slice(at + 1));
  }
  return { status: r.status, error: r.error, output: `${r.stdout || ''}${r.stderr || ''}`, seen, formatted };
}

/** What `kload fmt` makes of the scenario once the quick fix is applied. */
function expectedLayout(dir, bin) {
  const file = path.join(dir, 'expected.kload');
  fs.writeFileSync(file, SCENARIO.replace('projct_id', 'project_id'));
  const r = spawnSync(bin, ['fmt', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`kload fmt failed: ${r.stderr}`);
  return fs.readFileSync(file, 'utf8');
}

async function run(report) {
  const bin = process.env.KLOAD_BIN;
  if (!bin || !fs.existsSync(bin)) {
    report.check('lsp: the kload binary to test is set ($KLOAD_BIN)', [`KLOAD_BIN=${bin}`]);
    return {};
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kload-lsp-'));
  try {
    const started = Date.now();
    const r = runNeovim(dir, bin);
    const seen = r.seen;
    const one = (key) => (seen[key] || [])[0] || '';
    report.check('lsp: Neovim ran the session to the end (exit 0, nothing reported failed)',
      r.status === 0 && !seen.fail ? [] : [`exit ${r.status} ${r.error || ''}`, ...(seen.fail || []), r.output].filter(Boolean));
    report.check('lsp: the diagnostic arrives with the compiler\'s code and position',
      (seen.diagnostic || []).join(' ') === 'kload::unknown_variable@7:22' ? [] : [`diagnostics: ${seen.diagnostic}`]);
    const request = one('complete_request').split(',');
    report.check('lsp: completion among a request\'s items offers its keywords, not a task\'s',
      ['capture', 'check', 'header', 'json', 'tags'].every((k) => request.includes(k)) && !request.includes('task')
        ? [] : [`got: ${request}`]);
    const expression = one('complete_expression').split(',');
    report.check('lsp: completion in {{ }} offers variables, feeds and functions',
      ['project_id', 'accounts', 'uuid', 'random_int'].every((k) => expression.includes(k)) ? [] : [`got: ${expression}`]);
    report.check('lsp: hover shows the language reference\'s text',
      one('hover').includes('A capture takes a value from the response') ? [] : [`hover: ${one('hover')}`]);
    report.check('lsp: the quick fix is offered and clears the diagnostic',
      one('action') === 'Change `projct_id` to `project_id`' ? [] : [`action: ${one('action')}`]);
    const formatted = fs.existsSync(r.formatted) ? fs.readFileSync(r.formatted, 'utf8') : '';
    const expected = expectedLayout(dir, bin);
    report.check('lsp: formatting gives kload fmt\'s layout', formatted === expected ? [] : [`got:\n${formatted}\nwanted:\n${expected}`]);
    return { seconds: ((Date.now() - started) / 1000).toFixed(1) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { run };
