import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';

import {
  DEFAULT_COMMAND,
  expandPath,
  initializationOptions,
  isLanguageEnabled,
  needsRestart,
  readSettings,
  serverExecutable,
  startFailureMessage,
  toggleLanguage,
} from '../../src/config';

const from = (values: Record<string, unknown>) => (key: string) => values[key];

describe('readSettings', () => {
  test('defaults when nothing is set', () => {
    const { settings, problems } = readSettings(from({}));
    assert.deepEqual(problems, []);
    assert.deepEqual(settings.command, DEFAULT_COMMAND);
    assert.equal(settings.model, '');
    assert.equal(settings.enable['*'], true);
    assert.equal(settings.enable.markdown, false);
    assert.deepEqual(settings.initializationOptions, {});
  });

  test('valid values are taken as they are', () => {
    const { settings, problems } = readSettings(
      from({
        'server.command': ['/venv/bin/python', '-m', 'slm_lsp', 'serve'],
        model: '  /models/coder.gguf ',
        enable: { python: false, markdown: true },
        initializationOptions: { nThreads: 2, maxTokensMulti: 64 },
      }),
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(settings.command, ['/venv/bin/python', '-m', 'slm_lsp', 'serve']);
    assert.equal(settings.model, '/models/coder.gguf');
    assert.deepEqual(settings.enable, { '*': true, plaintext: false, markdown: true, scminput: false, python: false });
    assert.deepEqual(settings.initializationOptions, { nThreads: 2, maxTokensMulti: 64 });
  });

  test('each bad value is named, ignored, and the rest still applies', () => {
    const { settings, problems } = readSettings(
      from({
        'server.command': [],
        model: 42,
        enable: { python: 'yes', rust: false },
        initializationOptions: { nThreads: 'four', nCtx: 2048, temperature: 0.2 },
      }),
    );
    assert.deepEqual(settings.command, DEFAULT_COMMAND);
    assert.equal(settings.model, '');
    assert.equal(settings.enable.rust, false);
    assert.equal(settings.enable.python, undefined);
    assert.deepEqual(settings.initializationOptions, { nCtx: 2048 });
    assert.equal(problems.length, 5, problems.join('\n'));
    for (const name of ['server.command', 'slmLsp.model', 'enable["python"]', 'nThreads', 'temperature']) {
      assert.ok(problems.some((p) => p.includes(name)), `no problem mentions ${name}: ${problems.join(' | ')}`);
    }
  });

  test('the model goes in its own setting, not in the advanced options', () => {
    const { settings, problems } = readSettings(from({ initializationOptions: { model: '/m.gguf', adaptiveBudgets: false } }));
    assert.deepEqual(settings.initializationOptions, { adaptiveBudgets: false });
    assert.equal(problems.length, 1);
    assert.match(problems[0], /use the slmLsp\.model setting/);
  });

  test('a command whose program is blank or not all strings is refused', () => {
    for (const command of [[''], ['  ', 'serve'], ['slm-lsp', 3], 'slm-lsp serve', {}]) {
      const { settings, problems } = readSettings(from({ 'server.command': command }));
      assert.deepEqual(settings.command, DEFAULT_COMMAND, JSON.stringify(command));
      assert.equal(problems.length, 1);
    }
  });

  test('non-object enable and options are refused as a whole', () => {
    const { settings, problems } = readSettings(from({ enable: [true], initializationOptions: 'nCtx=1' }));
    assert.deepEqual(settings.enable, { '*': true, plaintext: false, markdown: false, scminput: false });
    assert.deepEqual(settings.initializationOptions, {});
    assert.equal(problems.length, 2);
  });
});

describe('paths and the server command', () => {
  const expansion = { home: '/home/ada', workspaceFolder: '/work/project' };

  test('~, ${userHome} and ${workspaceFolder} are expanded', () => {
    assert.equal(expandPath('~', expansion), '/home/ada');
    assert.equal(expandPath('~/models/a.gguf', expansion), path.join('/home/ada', 'models/a.gguf'));
    assert.equal(expandPath('${userHome}/m.gguf', expansion), '/home/ada/m.gguf');
    assert.equal(expandPath('${workspaceFolder}/.venv/bin/slm-lsp', expansion), '/work/project/.venv/bin/slm-lsp');
    assert.equal(expandPath('a~b', expansion), 'a~b');
    // Without a workspace the placeholder stays, so the error names what was configured.
    assert.equal(expandPath('${workspaceFolder}/x', { home: '/h' }), '${workspaceFolder}/x');
  });

  test('the command splits into program and arguments', () => {
    const { settings } = readSettings(from({ 'server.command': ['~/.venv/bin/slm-lsp', 'serve', '--log-level', 'debug'] }));
    assert.deepEqual(serverExecutable(settings, expansion), {
      command: path.join('/home/ada', '.venv/bin/slm-lsp'),
      args: ['serve', '--log-level', 'debug'],
    });
  });

  test('the model path joins the advanced options; empty means the server default', () => {
    const { settings } = readSettings(from({ model: '~/m.gguf', initializationOptions: { nCtx: 1024 } }));
    assert.deepEqual(initializationOptions(settings, expansion), { nCtx: 1024, model: path.join('/home/ada', 'm.gguf') });
    const { settings: plain } = readSettings(from({}));
    assert.deepEqual(initializationOptions(plain, expansion), {});
  });
});

describe('per-language switch', () => {
  test('own entry, then "*", then on', () => {
    assert.equal(isLanguageEnabled({ '*': false, python: true }, 'python'), true);
    assert.equal(isLanguageEnabled({ '*': false, python: true }, 'rust'), false);
    assert.equal(isLanguageEnabled({}, 'rust'), true);
    assert.equal(isLanguageEnabled({ '*': true, markdown: false }, 'markdown'), false);
    // Inherited object keys are not languages.
    assert.equal(isLanguageEnabled({ '*': false }, 'constructor'), false);
    assert.equal(isLanguageEnabled({ '*': true }, 'toString'), true);
  });

  test('toggling flips only that language', () => {
    assert.deepEqual(toggleLanguage({ '*': true }, 'python'), { '*': true, python: false });
    assert.deepEqual(toggleLanguage({ '*': true, python: false }, 'python'), { '*': true, python: true });
    assert.deepEqual(toggleLanguage({ '*': false }, 'go'), { '*': false, go: true });
  });
});

describe('restarts', () => {
  const base = readSettings(from({ initializationOptions: { nCtx: 1024, nThreads: 2 } })).settings;

  test('command, model and server options restart; enable does not', () => {
    assert.equal(needsRestart(base, { ...base, enable: { '*': false } }), false);
    assert.equal(needsRestart(base, { ...base, initializationOptions: { nThreads: 2, nCtx: 1024 } }), false);
    assert.equal(needsRestart(base, { ...base, model: '/m.gguf' }), true);
    assert.equal(needsRestart(base, { ...base, command: ['slm-lsp', 'serve', '--threads', '1'] }), true);
    assert.equal(needsRestart(base, { ...base, initializationOptions: { nCtx: 2048, nThreads: 2 } }), true);
  });
});

describe('start failures', () => {
  const exe = { command: 'slm-lsp', args: ['serve'] };

  test('a missing program says how to install or configure it', () => {
    const fromLanguageClient = 'Launching server using command slm-lsp failed. Error: spawn slm-lsp ENOENT';
    for (const error of [fromLanguageClient, Object.assign(new Error('spawn'), { code: 'ENOENT' })]) {
      const message = startFailureMessage(exe, error);
      assert.match(message, /slm-lsp serve/);
      assert.match(message, /not found/);
      assert.match(message, /pip install \. in the slm-lsp repository/);
      assert.match(message, /slmLsp\.server\.command/);
    }
  });

  test('an older slm-lsp that refuses its arguments gets the upgrade fix', () => {
    const stderr = 'usage: slm-lsp [-h] {serve,complete} ...\nslm-lsp: error: unrecognized arguments: --stdio';
    const message = startFailureMessage(exe, new Error('Connection closed'), stderr);
    assert.match(message, /not a slm-lsp server this extension can use/);
    assert.match(message, /unrecognized arguments: --stdio/);
    assert.match(message, /pip install -U \. in the slm-lsp repository/);
    assert.match(message, /Machine settings in code-server and remote windows/);
  });

  test('a server that exits at once shows its last line and where to fix it', () => {
    const stderr = 'INFO slm_lsp: starting\nslm-lsp: model file /m.gguf is missing';
    const message = startFailureMessage(exe, new Error('Connection closed'), stderr);
    assert.match(message, /"slm-lsp serve" exited at once: slm-lsp: model file \/m\.gguf is missing\./);
    assert.match(message, /Run it in a terminal/);
    assert.match(message, /slmLsp\.server\.command/);
  });

  test('permission and other errors keep their cause', () => {
    assert.match(startFailureMessage(exe, 'spawn slm-lsp EACCES'), /not executable/);
    assert.match(startFailureMessage(exe, new Error('initialize timed out')), /initialize timed out/);
  });
});
