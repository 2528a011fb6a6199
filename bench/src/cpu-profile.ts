import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '@herald/local-kafka';

/** The parts of a V8 `.cpuprofile` (Chrome DevTools format) the summary reads. */
interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    hitCount?: number;
  }>;
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** Self time of one function, or of one group of code. */
export interface SelfTime {
  name: string;
  /** Where it is: `kafkajs src/protocol/encoder.js:42`, `node:internal/http2/core:1234`... */
  location: string;
  selfMillis: number;
  /** Share of the busy time (everything but idle). */
  share: number;
}

/** What one service's profile shows. */
export interface ProfileSummary {
  role: string;
  file: string;
  /** From the first sample to the last. */
  profiledMillis: number;
  /** Time the process's main thread was doing something (not idle). */
  busyMillis: number;
  /** Self time by package or part (kafkajs, grpc-js, node:http2, GC, a Herald lib...). */
  byPart: SelfTime[];
  /** The functions with the most self time. */
  topFunctions: SelfTime[];
}

/**
 * Reads a `.cpuprofile` and sums self time per function (name, file, line)
 * and per part of the code. A sample's time is the gap to the next sample,
 * as DevTools counts it; `(idle)` is left out of the shares.
 */
export function summarizeProfile(role: string, file: string, topCount = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const selfMicros = selfTimes(profile);
  const byFunction = new Map<string, SelfTime>();
  const byPart = new Map<string, SelfTime>();
  let busyMicros = 0;
  for (const node of profile.nodes) {
    const micros = selfMicros.get(node.id) ?? 0;
    if (micros === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    busyMicros += micros;
    const name = functionName || '(anonymous)';
    const location = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    const key = `${name} ${location}`;
    const entry = byFunction.get(key) ?? { name, location, selfMillis: 0, share: 0 };
    entry.selfMillis += micros / 1000;
    byFunction.set(key, entry);
    const part = partOf(functionName, url);
    const partEntry = byPart.get(part) ?? { name: part, location: '', selfMillis: 0, share: 0 };
    partEntry.selfMillis += micros / 1000;
    byPart.set(part, partEntry);
  }
  const busyMillis = busyMicros / 1000;
  const ranked = (entries: Iterable<SelfTime>) =>
    [...entries]
      .map((entry) => ({ ...entry, share: busyMillis > 0 ? entry.selfMillis / busyMillis : 0 }))
      .sort((a, b) => b.selfMillis - a.selfMillis);
  return {
    role,
    file,
    profiledMillis: (profile.endTime - profile.startTime) / 1000,
    busyMillis,
    byPart: ranked(byPart.values()),
    topFunctions: ranked(byFunction.values()).slice(0, topCount),
  };
}

/** Self time per node id, in µs: each sample gets the time until the next one (the last, until the end). */
function selfTimes(profile: CpuProfile): Map<number, number> {
  const times = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  if (samples.length === 0) {
    // No sample list: fall back on hit counts at the 1 ms interval the hook sets.
    for (const node of profile.nodes) times.set(node.id, (node.hitCount ?? 0) * 1000);
    return times;
  }
  let at = profile.startTime;
  const stamps = deltas.map((delta) => (at += delta));
  for (let i = 0; i < samples.length; i++) {
    const next = i + 1 < stamps.length ? stamps[i + 1]! : profile.endTime;
    const micros = Math.max(0, next - stamps[i]!);
    times.set(samples[i]!, (times.get(samples[i]!) ?? 0) + micros);
  }
  return times;
}

/** A file as the report shows it: a package and its path, a Herald workspace, or a Node.js module. */
function shortUrl(url: string): string {
  const file = url.startsWith('file://') ? url.slice('file://'.length) : url;
  const modules = file.lastIndexOf('/node_modules/');
  if (modules >= 0) return file.slice(modules + '/node_modules/'.length);
  if (file.startsWith(`${repoRoot}/`)) return path.relative(repoRoot, file);
  return file;
}

/**
 * The part of the code a function belongs to: a package (`kafkajs`,
 * `@grpc/grpc-js`), a Herald workspace (`libs/kafka`, `services/dispatcher`),
 * a Node.js area (`node:http2`, `node:streams`), or V8's own (`(garbage collector)`).
 */
export function partOf(functionName: string, url: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const file = shortUrl(url);
  if (url.includes('/node_modules/')) {
    const [scope, name] = file.split('/');
    return scope?.startsWith('@') ? `${scope}/${name}` : (scope ?? file);
  }
  if (file.startsWith('node:')) {
    const rest = file.slice('node:'.length).replace(/^internal\//, '');
    return `node:${rest.split('/')[0]}`;
  }
  const workspace = /^(libs|services|bench)\/([^/]+)/.exec(file);
  if (workspace) return `${workspace[1]}/${workspace[2]}`;
  return file;
}
