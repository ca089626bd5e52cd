import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// The client runs in browsers and React Native too: nothing Node-only, nothing of the server.
const DIR = import.meta.dirname;
const files = readdirSync(DIR).filter((name) => name.endsWith('.ts') && !name.endsWith('.spec.ts'));

describe('the client is portable', () => {
  it.each(files)('%s imports only its siblings and openapi-fetch, and uses no Node global', (name) => {
    const text = readFileSync(join(DIR, name), 'utf8');
    const specifiers = [...text.matchAll(/(?:import|export)\b[^'"]*?from\s+'([^']+)'|import\('([^']+)'\)|require\('([^']+)'\)/g)].map(
      (match) => match[1] ?? match[2] ?? match[3],
    );
    expect(specifiers.filter((specifier) => !/^\.\/[\w.-]+\.js$/.test(specifier) && specifier !== 'openapi-fetch')).toEqual([]);
    const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    expect(code).not.toMatch(/\b(process|Buffer|console)\.|\brequire\(|__dirname|import\.meta/);
  });

  it('checks every file of the client', () => {
    expect(files).toEqual(expect.arrayContaining(['index.ts', 'auth-client.ts', 'session-keeper.ts', 'bearer.ts']));
  });
});
