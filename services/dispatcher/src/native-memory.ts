import type Koffi from 'koffi';

type Trim = (pad: number) => number;

let trim: Trim | null | undefined;

/**
 * Asks the C allocator to give the pages it holds free back to the system:
 * glibc's `malloc_trim(0)`, through koffi's FFI (prebuilt for each platform,
 * so nothing is compiled at install). glibc gives memory back by itself only
 * from the top of its heap; what a burst freed below memory still in use
 * (HTTP/2 state of streams that come and go among thousands that stay) stays
 * resident until asked. Elsewhere (musl, macOS, a platform koffi has no build
 * for) it does nothing and says so.
 *
 * @returns whether memory was given back.
 */
export function releaseFreeNativeMemory(): boolean {
  trim ??= loadTrim();
  return trim ? trim(0) === 1 : false;
}

function loadTrim(): Trim | null {
  if (process.platform !== 'linux') return null;
  try {
    // Loaded here, not imported: a dispatcher where koffi cannot load still starts, only without this.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const koffi = require('koffi') as typeof Koffi;
    return koffi.load('libc.so.6').func('int malloc_trim(size_t pad)') as Trim;
  } catch {
    return null; // not glibc, or no koffi build here
  }
}
