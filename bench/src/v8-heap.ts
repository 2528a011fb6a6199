/** A Node.js process's V8 heap as its Prometheus endpoint reports it (prom-client's default metrics). */
export interface V8Heap {
  /** Bytes the heap has reserved from the system (`nodejs_heap_size_total_bytes`). */
  totalBytes: number;
  /** Bytes of objects in it, live or not yet collected (`nodejs_heap_size_used_bytes`). */
  usedBytes: number;
}

/** The heap figures of a /metrics text; undefined when either is missing. */
export function parseV8Heap(metrics: string): V8Heap | undefined {
  const value = (name: string) => {
    const match = new RegExp(`^${name} ([0-9.e+]+)`, 'm').exec(metrics);
    return match ? Number(match[1]) : undefined;
  };
  const totalBytes = value('nodejs_heap_size_total_bytes');
  const usedBytes = value('nodejs_heap_size_used_bytes');
  return totalBytes === undefined || usedBytes === undefined ? undefined : { totalBytes, usedBytes };
}

/** The heap of the process serving `metricsUrl`; undefined when it does not answer within 5 s. */
export async function v8HeapOf(metricsUrl: string): Promise<V8Heap | undefined> {
  try {
    const response = await fetch(metricsUrl, { signal: AbortSignal.timeout(5_000) });
    return response.ok ? parseV8Heap(await response.text()) : undefined;
  } catch {
    return undefined;
  }
}
