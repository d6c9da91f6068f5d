// Renders a .kload file, highlighted by the VS Code grammar (vscode-textmate) with the
// colours of VS Code's Dark+ theme, to a standalone HTML page.
//   node render.js FILE [FIRST-LAST,...] > page.html      (1-based line ranges, optional)
// screenshot.sh turns the page into the PNG shown in editors/README.md.
'use strict';
const fs = require('fs');
const path = require('path');
const { loadGrammar } = require('../tests/textmate');

// Dark+ colours for the scopes the kload grammar uses (VS Code's dark_plus/dark_vs themes).
const THEME = {
  name: 'Dark+ (subset)',
  settings: [
    { settings: { foreground: '#D4D4D4', background: '#1E1E1E' } },
    { scope: 'comment', settings: { foreground: '#6A9955' } },
    { scope: 'string', settings: { foreground: '#CE9178' } },
    { scope: 'constant.character.escape', settings: { foreground: '#D7BA7D' } },
    { scope: ['constant.numeric', 'keyword.other.unit'], settings: { foreground: '#B5CEA8' } },
    { scope: 'constant.language', settings: { foreground: '#569CD6' } },
    { scope: ['keyword', 'keyword.operator.expression'], settings: { foreground: '#569CD6' } },
    { scope: 'keyword.control', settings: { foreground: '#C586C0' } },
    { scope: ['keyword.operator.comparison', 'keyword.operator.assignment', 'keyword.operator.range'], settings: { foreground: '#D4D4D4' } },
    { scope: ['entity.name.function', 'support.function'], settings: { foreground: '#DCDCAA' } },
    { scope: 'entity.name.type', settings: { foreground: '#4EC9B0' } },
    { scope: ['variable', 'entity.name.variable', 'support.variable', 'variable.parameter', 'support.type.property-name', 'entity.other.attribute-name'], settings: { foreground: '#9CDCFE' } },
    { scope: 'entity.name.tag', settings: { foreground: '#569CD6' } },
    { scope: 'meta.embedded', settings: { foreground: '#D4D4D4' } },
    { scope: 'punctuation.section.interpolation', settings: { foreground: '#569CD6' } },
    { scope: 'string.unquoted.selector', settings: { foreground: '#CE9178' } },
  ],
};

// vscode-textmate's encoded token metadata (EncodedTokenAttributes).
const FONT_STYLE = (m) => (m >>> 11) & 0b1111;
const FOREGROUND = (m) => (m >>> 15) & 0b111111111;

const escapeHtml = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

async function main() {
  const [file, ranges] = process.argv.slice(2);
  if (!file) throw new Error('usage: node render.js FILE [FIRST-LAST,...]');
  const { vsctm, grammar, registry } = await loadGrammar();
  registry.setTheme(THEME);
  const colors = registry.getColorMap();
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const wanted = ranges
    ? ranges.split(',').map((r) => r.split('-').map(Number))
    : [[1, lines.length]];
  const html = [];
  let stack = vsctm.INITIAL;
  let lastShown = null;
  lines.forEach((line, i) => {
    const r = grammar.tokenizeLine2(line, stack);
    stack = r.ruleStack;
    const n = i + 1;
    if (!wanted.some(([a, b]) => n >= a && n <= b)) return;
    if (lastShown !== null && n !== lastShown + 1) html.push('<div class="gap">⋮</div>');
    lastShown = n;
    let row = '';
    for (let k = 0; k < r.tokens.length; k += 2) {
      const start = r.tokens[k];
      const end = k + 2 < r.tokens.length ? r.tokens[k + 2] : line.length;
      const meta = r.tokens[k + 1];
      const style = [`color:${colors[FOREGROUND(meta)]}`];
      if (FONT_STYLE(meta) & 1) style.push('font-style:italic');
      if (FONT_STYLE(meta) & 2) style.push('font-weight:bold');
      row += `<span style="${style.join(';')}">${escapeHtml(line.slice(start, end))}</span>`;
    }
    html.push(`<div><span class="ln">${n}</span>${row || ' '}</div>`);
  });
  process.stdout.write(`<!doctype html>
<meta charset="utf-8">
<title>${escapeHtml(path.basename(file))}</title>
<style>
  html, body { margin: 0; background: #1E1E1E; }
  pre { margin: 0; padding: 14px 18px; color: #D4D4D4; font: 13px/19px "DejaVu Sans Mono", "Liberation Mono", monospace; }
  .ln { display: inline-block; width: 3ch; margin-right: 2ch; text-align: right; color: #6E7681; }
  .gap { color: #6E7681; padding-left: 1ch; }
</style>
<pre>${html.join('')}</pre>
`);
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
