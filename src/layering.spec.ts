import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

// The package (src/auth and the migrations it ships) and the service built on it: imports run one way.
const ROOT = resolve(import.meta.dirname, '..');
const PACKAGE_DIRS = [join(ROOT, 'src/auth'), join(ROOT, 'migrations')];
const PACKAGE_ENTRY = join(ROOT, 'src/auth/index.ts');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** Every module specifier a file imports or re-exports, static or dynamic. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'|import\('([^']+)'\)|^import\s+'([^']+)'/gm)].map(
    (match) => match[1] ?? match[2] ?? match[3],
  );
}

const isInPackage = (path: string) => PACKAGE_DIRS.some((dir) => path === dir || path.startsWith(`${dir}/`));
const resolved = (file: string, specifier: string) => resolve(dirname(file), specifier).replace(/\.js$/, '.ts');
const packageName = (specifier: string) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
const packageFiles = PACKAGE_DIRS.flatMap(sourceFiles);
const serviceFiles = sourceFiles(join(ROOT, 'src')).filter((file) => !isInPackage(file));

describe('layering', () => {
  it('reads the imports of both sides (so the checks below have something to check)', () => {
    expect(packageFiles.flatMap(importsOf).filter((specifier) => specifier.startsWith('.')).length).toBeGreaterThan(100);
    expect(serviceFiles.filter((file) => importsOf(file).some((specifier) => resolved(file, specifier) === PACKAGE_ENTRY)).length).toBeGreaterThan(3);
  });

  it('the package imports nothing from the service (config, database, bootstrap)', () => {
    const strays = packageFiles.flatMap((file) =>
      importsOf(file)
        .filter((specifier) => specifier.startsWith('.') && !isInPackage(resolved(file, specifier)))
        .map((specifier) => `${relative(ROOT, file)} imports ${specifier}`),
    );
    expect(strays).toEqual([]);
  });

  it("the service imports the package through its public entry only", () => {
    const deep = serviceFiles.flatMap((file) =>
      importsOf(file)
        .filter((specifier) => specifier.startsWith('.') && isInPackage(resolved(file, specifier)) && resolved(file, specifier) !== PACKAGE_ENTRY)
        .map((specifier) => `${relative(ROOT, file)} imports ${specifier}`),
    );
    expect(deep).toEqual([]);
  });

  it("the package's own imports are its dependencies or peers, never a development-only package", () => {
    const declared = new Set([...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies)]);
    const undeclared = packageFiles.flatMap((file) =>
      importsOf(file)
        .filter((specifier) => !specifier.startsWith('.') && !specifier.startsWith('node:') && !builtinModules.includes(specifier))
        .filter((specifier) => !declared.has(packageName(specifier)))
        .map((specifier) => `${relative(ROOT, file)} imports ${specifier}`),
    );
    expect(undeclared).toEqual([]);
  });

  it('only authOptionsFromEnv reads the environment; nothing of the package reads ConfigService', () => {
    const readers = packageFiles
      .filter((file) => /process\.env|ConfigService/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(ROOT, file));
    expect(readers).toEqual(['src/auth/auth.options.ts']);
  });
});
