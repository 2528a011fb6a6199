import { type LeaseConfirmation, LeaseFailureReason, type StreamingPullResponse } from '@herald/api';
import type { AnswerFailure, LeaseAnswer } from '../subscription-runtime';

const reasons: Record<AnswerFailure, { reason: LeaseFailureReason; detail: string }> = {
  invalid: {
    reason: LeaseFailureReason.LEASE_FAILURE_REASON_INVALID,
    detail: 'not an ack id the dispatcher serving this subscription issued',
  },
  expired: {
    reason: LeaseFailureReason.LEASE_FAILURE_REASON_EXPIRED,
    detail: 'the lease ended before this (its deadline passed, it was nacked or acked, or its stream ended)',
  },
  'lease-moved': {
    reason: LeaseFailureReason.LEASE_FAILURE_REASON_LEASE_MOVED,
    detail: 'the message is leased to another stream now',
  },
  unavailable: {
    reason: LeaseFailureReason.LEASE_FAILURE_REASON_UNAVAILABLE,
    detail: 'the acknowledgement could not be stored; it is not confirmed',
  },
};

/** The StreamingPull response carrying one set of answers. */
export function answerToProto(answer: LeaseAnswer): StreamingPullResponse {
  const confirmation: LeaseConfirmation = {
    ackIds: answer.confirmed,
    failures: answer.failed.map(({ ackId, reason }) => ({ ackId, ...reasons[reason] })),
  };
  return {
    receivedMessages: [],
    subscriptionProperties: undefined,
    ackConfirmation: answer.kind === 'ack' ? confirmation : undefined,
    nackConfirmation: answer.kind === 'nack' ? confirmation : undefined,
    modifyDeadlineConfirmation: answer.kind === 'modify-deadline' ? confirmation : undefined,
    servedBy: '',
  };
}

/** The first response of a stream on an exactly-once subscription. */
export function exactlyOnceProperties(ordering: boolean): StreamingPullResponse {
  return {
    receivedMessages: [],
    subscriptionProperties: { exactlyOnceDeliveryEnabled: true, messageOrderingEnabled: ordering },
    ackConfirmation: undefined,
    nackConfirmation: undefined,
    modifyDeadlineConfirmation: undefined,
    servedBy: '',
  };
}
