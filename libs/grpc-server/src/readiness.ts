import { EventEmitter } from 'node:events';

/** Something a service depends on that tells when it can be reached (Kafka, the registry). */
export interface DependencySource {
  readonly reachable: boolean;
  /** Why it cannot be reached, for a caller's error message. */
  readonly unreachableReason: string;
  on(event: 'reachable', listener: (reachable: boolean) => void): unknown;
}

/**
 * What a service needs to do its work (Kafka, a registry), each up or down
 * with the reason. The server reports readiness from it, and fails the rpcs
 * that need a dependency that is down at once, with UNAVAILABLE and the reason.
 *
 * Emits `change` with the dependency's name and whether it is up.
 */
export class Readiness extends EventEmitter<{ change: [dependency: string, up: boolean] }> {
  private readonly down = new Map<string, () => string>();
  private readonly known = new Set<string>();

  /** Marks a dependency down; `reason` is asked when a caller is told why (it may count seconds). */
  setDown(dependency: string, reason: () => string): void {
    this.known.add(dependency);
    const wasDown = this.down.has(dependency);
    this.down.set(dependency, reason);
    if (!wasDown) this.emit('change', dependency, false);
  }

  /** Follows a dependency from its state now and its own `reachable` events. */
  follow(dependency: string, source: DependencySource): void {
    const track = (up: boolean) =>
      up ? this.setUp(dependency) : this.setDown(dependency, () => source.unreachableReason);
    source.on('reachable', track);
    track(source.reachable);
  }

  /** Marks a dependency up again. */
  setUp(dependency: string): void {
    this.known.add(dependency);
    if (this.down.delete(dependency)) this.emit('change', dependency, true);
  }

  /** Every dependency ever named, and whether it is up now. */
  states(): Array<{ dependency: string; up: boolean }> {
    return [...this.known].map((dependency) => ({ dependency, up: !this.down.has(dependency) }));
  }

  /** Whether every dependency is up. */
  get allUp(): boolean {
    return this.down.size === 0;
  }

  /** Why the first of `dependencies` that is down is down, or undefined when all are up. */
  reasonDown(dependencies: readonly string[]): string | undefined {
    if (this.down.size === 0) return undefined; // asked on every call: keep the usual answer cheap
    for (const dependency of dependencies) {
      const reason = this.down.get(dependency);
      if (reason) return reason();
    }
    return undefined;
  }
}
