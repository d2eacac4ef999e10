// package.json and the code must agree: every command the code registers is declared
// (else VS Code hides it from the palette), every declared one is registered (else it
// fails when run), and every setting the code reads is declared with a default.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';

import { DEFAULT_COMMAND, DEFAULT_ENABLE, SECTION, SERVER_OPTIONS, SETTING_KEYS } from '../../src/config';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const extensionSource = fs.readFileSync(path.join(ROOT, 'src', 'extension.ts'), 'utf8');

describe('package.json', () => {
  test('entry point and engine match the language client', () => {
    assert.equal(manifest.main, './out/src/extension.js');
    const client = JSON.parse(
      fs.readFileSync(path.join(ROOT, 'node_modules', 'vscode-languageclient', 'package.json'), 'utf8'),
    );
    assert.equal(manifest.engines.vscode, client.engines.vscode, 'the extension must not claim an older VS Code than its client');
    assert.ok(manifest.activationEvents.includes('onStartupFinished'));
  });

  test('declared commands and registered commands are the same set', () => {
    const declared = new Set<string>(manifest.contributes.commands.map((c: { command: string }) => c.command));
    const block = /export const COMMANDS = \{([\s\S]*?)\}/.exec(extensionSource);
    assert.ok(block, 'COMMANDS table not found in extension.ts');
    const registered = new Set([...block[1].matchAll(/'([^']+)'/g)].map((m) => m[1]));
    assert.deepEqual([...registered].sort(), [...declared].sort());
    for (const id of registered) {
      assert.ok(!id.startsWith('slm.'), `${id}: the "slm." prefix belongs to the server's executeCommand ids`);
    }
    for (const menu of Object.values(manifest.contributes.menus) as Array<Array<{ command: string }>>) {
      for (const entry of menu) {
        assert.ok(declared.has(entry.command), `menu entry for undeclared ${entry.command}`);
      }
    }
  });

  test('every setting the code reads is declared, with the code\'s defaults', () => {
    const properties = manifest.contributes.configuration.properties;
    for (const key of SETTING_KEYS) {
      assert.ok(properties[`${SECTION}.${key}`], `${SECTION}.${key} is not declared`);
    }
    assert.deepEqual(properties[`${SECTION}.server.command`].default, DEFAULT_COMMAND);
    assert.deepEqual(properties[`${SECTION}.enable`].default, DEFAULT_ENABLE);
    const optionSchema = properties[`${SECTION}.initializationOptions`].properties;
    const known = Object.keys(SERVER_OPTIONS).filter((key) => key !== 'model');
    assert.deepEqual(Object.keys(optionSchema).sort(), known.sort());
    // What runs, and which model file is parsed, is never up to a workspace.
    assert.equal(properties[`${SECTION}.server.command`].scope, 'machine');
    assert.equal(properties[`${SECTION}.model`].scope, 'machine');
  });

  test('the client id matches the trace setting the language client reads', () => {
    assert.match(extensionSource, /const CLIENT_ID = 'slmLsp'/);
    assert.ok(manifest.contributes.configuration.properties['slmLsp.trace.server']);
  });
});
