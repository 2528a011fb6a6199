import { PushRefusedError } from './endpoint-guard';
import type { PushResult } from './push-transport';

/** A request that failed before any answer: refused by the guard, aborted, or a network error. */
export function failureResult(error: unknown): PushResult {
  if (error instanceof PushRefusedError) return { outcome: 'refused', detail: error.message };
  const err = error as NodeJS.ErrnoException;
  if (err?.name === 'AbortError') return { outcome: 'network-error', detail: 'aborted: the push sender stopped' };
  return { outcome: 'network-error', detail: err?.code ? `${err.code}: ${err.message}` : String(err?.message ?? err) };
}
