import type { SubscriberRegistryServiceService } from '@herald/api';
import { InvalidArgumentError } from '@herald/errors';
import { type AsyncService, type Policy, parseResourceName, principalOf } from '@herald/grpc-server';
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
import type { Visibility } from './visibility';
import { streamWatch } from './watch-stream';

const policyToProto = (policy: Policy) => ({ bindings: policy.bindings, etag: policy.etag });

/** The SubscriberRegistryService rpcs: proto in, domain call, proto out. Lists show what the caller may see. */
export function registryHandlers(
  registry: RegistryService,
  logger: Logger,
  visibility: Visibility,
): AsyncService<typeof SubscriberRegistryServiceService> {
  return {
    createTopic: async (request) => ({
      topic: topicToProto(await registry.createTopic(createTopicInput(request.topic))),
    }),
    getTopic: async (request) => ({ topic: topicToProto(registry.getTopic(request.name)) }),
    listTopics: async (request, call) => {
      const page = registry.listTopics(request.pageSize, request.pageToken, visibility.topics(principalOf(call)));
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
    listSubscriptions: async (request, call) => {
      const page = registry.listSubscriptions(
        request.pageSize,
        request.pageToken,
        request.topic,
        visibility.subscriptions(principalOf(call)),
      );
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
    watch: (call) => streamWatch(call, registry, logger, visibility),
    setIamPolicy: async (request) => {
      if (!request.policy) throw new InvalidArgumentError('policy', 'is required');
      const policy = await registry.setPolicy(request.resource, request.policy.bindings, request.policy.etag);
      return { policy: policyToProto(policy) };
    },
    getIamPolicy: async (request) => {
      const policy = registry.getPolicy(request.resource);
      const resource = parseResourceName(request.resource)!;
      return { policy: policyToProto(policy), staticBindings: visibility.file?.policy(resource)?.bindings ?? [] };
    },
    testIamPermissions: async (request, call) => {
      const resource = parseResourceName(request.resource);
      if (!resource) {
        throw new InvalidArgumentError('resource', 'must be herald, topics/<name> or subscriptions/<name>');
      }
      if (request.permissions.length > 100) {
        throw new InvalidArgumentError('permissions', `names ${request.permissions.length}; the limit is 100`);
      }
      return { permissions: visibility.held(principalOf(call), resource, request.permissions) };
    },
  };
}
