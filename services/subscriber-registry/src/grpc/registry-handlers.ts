import type { SubscriberRegistryServiceService } from '@herald/api';
import type { AsyncService } from '@herald/grpc-server';
import type { Logger } from '@herald/logging';
import type { Position } from '../domain/registry-model';
import type { RegistryService } from '../registry-service';
import {
  createSubscriptionInput,
  createTopicInput,
  positionFromProto,
  subscriptionToProto,
  topicToProto,
  updateSubscriptionInput,
} from './proto-mapping';
import { streamWatch } from './watch-stream';

/** The SubscriberRegistryService rpcs: proto in, domain call, proto out. */
export function registryHandlers(
  registry: RegistryService,
  logger: Logger,
): AsyncService<typeof SubscriberRegistryServiceService> {
  return {
    createTopic: async (request) => ({
      topic: topicToProto(await registry.createTopic(createTopicInput(request.topic))),
    }),
    getTopic: async (request) => ({ topic: topicToProto(registry.getTopic(request.name)) }),
    listTopics: async (request) => {
      const page = registry.listTopics(request.pageSize, request.pageToken);
      return { topics: page.items.map(topicToProto), nextPageToken: page.nextPageToken };
    },
    deleteTopic: async (request) => {
      await registry.deleteTopic(request.name);
      return {};
    },
    createSubscription: async (request) => ({
      subscription: subscriptionToProto(
        await registry.createSubscription(createSubscriptionInput(request.subscription)),
      ),
    }),
    getSubscription: async (request) => ({ subscription: subscriptionToProto(registry.getSubscription(request.name)) }),
    listSubscriptions: async (request) => {
      const page = registry.listSubscriptions(request.pageSize, request.pageToken, request.topic);
      return { subscriptions: page.items.map(subscriptionToProto), nextPageToken: page.nextPageToken };
    },
    updateSubscription: async (request) => ({
      subscription: subscriptionToProto(
        await registry.updateSubscription(updateSubscriptionInput(request.subscription, request.updateMask)),
      ),
    }),
    deleteSubscription: async (request) => {
      await registry.deleteSubscription(request.name);
      return {};
    },
    seek: async (request) => {
      let target: Position | undefined;
      if (request.target?.$case === 'time') target = { kind: 'time', timeMillis: request.target.value.getTime() };
      else if (request.target?.$case === 'position') target = positionFromProto('position', request.target.value);
      return { subscription: subscriptionToProto(await registry.seek(request.subscription, target)) };
    },
    watch: (call) => streamWatch(call, registry, logger),
  };
}
