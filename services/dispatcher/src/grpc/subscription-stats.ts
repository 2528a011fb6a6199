import type { ServerUnaryCall } from '@grpc/grpc-js';
import {
  type GetSubscriptionStatsRequest,
  type GetSubscriptionStatsResponse,
  type PushStats,
  type SubscriptionStats,
  millisToDuration,
} from '@herald/api';
import { InvalidArgumentError } from '@herald/errors';
import { validateResourceName } from '@herald/resource-names';
import type { DispatcherService } from '../dispatcher-service';
import type { PushReport, SubscriptionReport } from '../domain/subscription-report';
import { type StreamForwarder, forwardedByHeader } from './stream-forwarder';

/** Most subscriptions one call may ask about. */
export const maxStatsSubscriptions = 1_000;

/**
 * GetSubscriptionStats: figures of the subscriptions served here, and of the
 * others from the dispatchers serving them, asked in parallel and answered in
 * the order the caller named them.
 */
export async function getSubscriptionStats(
  request: GetSubscriptionStatsRequest,
  call: ServerUnaryCall<GetSubscriptionStatsRequest, GetSubscriptionStatsResponse>,
  dispatcher: DispatcherService,
  forwarder: StreamForwarder,
  address: string,
): Promise<GetSubscriptionStatsResponse> {
  const names = request.subscriptions;
  if (names.length === 0 || names.length > maxStatsSubscriptions) {
    throw new InvalidArgumentError('subscriptions', `name 1 to ${maxStatsSubscriptions} subscriptions`);
  }
  for (const name of names) validateResourceName('subscription', name);
  const { local, remote } = dispatcher.locate(names, call.metadata.get(forwardedByHeader).length > 0);
  const answers = await Promise.all([
    dispatcher.reports(new Set(local), true).then((reports) => reports.map((r) => statsToProto(r, address))),
    ...[...remote].map(([peer, peerNames]) => forwarder.subscriptionStats(peer, peerNames)),
  ]);
  const byName = new Map(answers.flat().map((stats) => [stats.subscription, stats]));
  return { stats: names.flatMap((name) => byName.get(name) ?? []) };
}

function statsToProto(report: SubscriptionReport, servedBy: string, now = Date.now()): SubscriptionStats {
  const { counts } = report;
  return {
    subscription: report.subscription,
    numUndeliveredMessages: String(report.backlog),
    oldestUnackedMessageAge:
      report.oldestUnackedPublishMillis === undefined
        ? undefined
        : millisToDuration(Math.max(0, now - report.oldestUnackedPublishMillis)),
    numAckPending: String(report.leases),
    openStreams: report.streams,
    servedBy,
    counts: {
      delivered: String(counts.delivered),
      acknowledged: String(counts.acked),
      nacked: String(counts.nacked),
      expired: String(counts.expired),
      deadLettered: String(counts.deadLettered),
      filtered: String(counts.filtered),
      deduplicated: String(counts.deduplicated),
    },
    push: report.push && pushToProto(report.push),
  };
}

function pushToProto(push: PushReport): PushStats {
  const { outcomes } = push;
  return {
    endpoint: push.endpoint,
    state: push.state,
    concurrency: push.concurrency,
    maxOutstanding: push.maxOutstanding,
    inFlight: push.inFlight,
    succeeded: String(outcomes.ok),
    throttled: String(outcomes.throttled),
    serverErrors: String(outcomes['server-error']),
    timedOut: String(outcomes.timeout),
    networkErrors: String(outcomes['network-error']),
    rejected: String(outcomes.rejected),
    refused: String(outcomes.refused),
    lastError: push.lastError ?? '',
  };
}
