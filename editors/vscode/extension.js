// Starts the kload language server (`kload lsp`) for .kload files: diagnostics as you type,
// completion, hover, go to definition, references, rename, formatting, quick fixes and the
// outline. Highlighting comes from the TextMate grammar and needs none of this: when the
// binary cannot be found, one message says so and everything else keeps working.
'use strict';
const fs = require('fs');
const path = require('path');
const vscode = require('vscode');

let client;

/** The executable `command` names: a path, or a name looked up on PATH. */
function findExecutable(command, env = process.env) {
  const isFile = (p) => {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (command.includes('/') || command.includes('\\')) return isFile(command) ? command : undefined;
  const extensions = process.platform === 'win32' ? (env.PATHEXT || '.EXE').split(';') : [''];
  for (const dir of (env.PATH || '').split(path.delimiter).filter(Boolean)) {
    for (const ext of extensions) {
      const candidate = path.join(dir, command + ext);
      if (isFile(candidate)) return candidate;
    }
  }
  return undefined;
}

async function start() {
  const setting = vscode.workspace.getConfiguration('kload').get('server.path') || 'kload';
  const command = findExecutable(setting);
  if (!command) {
    vscode.window.showWarningMessage(
      `kload: the language server was not started: \`${setting}\` was not found. ` +
        'Highlighting still works; install kload (`cargo install --path .` in its repository) ' +
        'or set "kload.server.path" to the kload binary.',
    );
    return;
  }
  // Loaded only when there is a server to talk to.
  const { LanguageClient, TransportKind } = require('vscode-languageclient/node');
  client = new LanguageClient(
    'kload',
    'kload language server',
    { command, args: ['lsp'], transport: TransportKind.stdio },
    { documentSelector: [{ language: 'kload' }] },
  );
  try {
    await client.start();
  } catch (e) {
    // The client has already shown its own error and keeps the details in its output.
    client = undefined;
  }
}

async function stop() {
  const running = client;
  client = undefined;
  if (running) await running.stop();
}

async function activate(context) {
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration('kload.server.path')) {
        await stop();
        await start();
      }
    }),
  );
  await start();
}

function deactivate() {
  return stop();
}

module.exports = { activate, deactivate, findExecutable };
