import { Gauge, type Registry } from '@herald/metrics';
import type { RegistryService } from './registry-service';

/**
 * The registry's Prometheus metrics, read from its state at each scrape:
 * topics, subscriptions, IAM policies, the log revision applied, the last
 * replay's duration and the open Watch streams.
 */
export function exportRegistryMetrics(registry: Registry, service: RegistryService): void {
  const registers = [registry];
  new Gauge({
    name: 'herald_registry_topics',
    help: 'Topics in the registry state',
    registers,
    collect() {
      this.set(service.state.topicCount);
    },
  });
  new Gauge({
    name: 'herald_registry_subscriptions',
    help: 'Subscriptions in the registry state',
    registers,
    collect() {
      this.set(service.state.subscriptionCount);
    },
  });
  new Gauge({
    name: 'herald_registry_iam_policies',
    help: 'IAM policies set through SetIamPolicy in the registry state (the policy file not counted)',
    registers,
    collect() {
      this.set(service.state.policyCount);
    },
  });
  new Gauge({
    name: 'herald_registry_log_revision',
    help: 'Revision (log offset) of the last registry event this instance applied; instances converge on the same',
    registers,
    collect() {
      this.set(Number(service.state.revision));
    },
  });
  new Gauge({
    name: 'herald_registry_replay_seconds',
    help: 'How long this instance took to replay the registry log at start, in seconds',
    registers,
    collect() {
      if (service.replayMillis !== undefined) this.set(service.replayMillis / 1000);
    },
  });
  new Gauge({
    name: 'herald_registry_watch_streams',
    help: 'Open Watch streams (publishers and dispatchers following the registry)',
    registers,
    collect() {
      this.set(service.feed.listenerCount);
    },
  });
}
