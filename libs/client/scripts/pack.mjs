// Packs @herald/client as a tarball a user can install on its own: `npm install ./herald-client-0.1.0.tgz`.
//
//   npm run tarball -w libs/client [-- <output directory>]      (default: libs/client/dist/pack)
//
// The SDK needs two workspace libraries that are not on the npm registry, @herald/api (generated
// types and clients) and @herald/retry (backoff). npm does not put workspace links into a tarball's
// bundled dependencies, so this script stages the package with real copies of both under
// node_modules/, lists them in bundleDependencies, and packs the staged copy. Their own registry
// dependencies (@grpc/grpc-js, @bufbuild/protobuf) stay ordinary dependencies, installed by npm.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const clientDir = path.resolve(import.meta.dirname, '..');
const repoDir = path.resolve(clientDir, '..', '..');
const bundled = { '@herald/api': 'libs/api', '@herald/retry': 'libs/retry' };
const out = path.resolve(process.argv[2] ?? path.join(clientDir, 'dist', 'pack'));

const npm = (args, cwd) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

// Build first: the tarball holds the compiled JavaScript and its declarations.
execFileSync('npx', ['tsc', '-b', 'libs/client', ...Object.values(bundled)], { cwd: repoDir, stdio: 'inherit' });

const stage = mkdtempSync(path.join(tmpdir(), 'herald-client-pack-'));
try {
  /** Copies what `npm pack` would put in `dir`'s tarball into `into`. */
  const copyPackedFiles = (dir, into) => {
    const [listing] = JSON.parse(npm(['pack', '--dry-run', '--json', '--ignore-scripts'], dir));
    for (const { path: file } of listing.files) {
      mkdirSync(path.dirname(path.join(into, file)), { recursive: true });
      cpSync(path.join(dir, file), path.join(into, file));
    }
  };

  const manifest = readJson(path.join(clientDir, 'package.json'));
  copyPackedFiles(clientDir, stage);
  const dependencies = { ...manifest.dependencies };
  for (const [name, dir] of Object.entries(bundled)) {
    const libDir = path.join(repoDir, dir);
    copyPackedFiles(libDir, path.join(stage, 'node_modules', name));
    // Its registry dependencies are installed beside the SDK's; it is no dependency to fetch itself.
    for (const [dep, range] of Object.entries(readJson(path.join(libDir, 'package.json')).dependencies ?? {})) {
      if (!(dep in bundled)) dependencies[dep] ??= range;
    }
  }
  delete manifest.scripts;
  delete manifest.devDependencies;
  manifest.dependencies = Object.fromEntries(Object.entries(dependencies).sort(([a], [b]) => a.localeCompare(b)));
  manifest.bundleDependencies = Object.keys(bundled);
  writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  mkdirSync(out, { recursive: true });
  const [packed] = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', out], stage));
  console.log(path.join(out, packed.filename));
} finally {
  rmSync(stage, { recursive: true, force: true });
}
