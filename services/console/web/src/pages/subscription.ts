import { ApiError, type StatsHistory, type StatsSample, type SubscriptionView, api, enc } from '../api';
import { accessSection } from './access';
import { lineChart } from '../chart';
import { h, replace } from '../dom';
import { navigate } from '../router';
import { type FormValues, actionDialog, errorBox, facts, formatCount, formatDuration, formatTime } from '../ui';

/** Per-second rate of a counter between successive samples; a counter that went back (another dispatcher took over) leaves a gap. */
function rate(samples: StatsSample[], of: (s: StatsSample) => number): Array<[number, number | null]> {
  const points: Array<[number, number | null]> = [];
  for (let i = 1; i < samples.length; i++) {
    const before = samples[i - 1]!;
    const after = samples[i]!;
    const delta = of(after) - of(before);
    const seconds = (after.time - before.time) / 1_000;
    points.push([after.time, delta < 0 || seconds <= 0 || after.servedBy !== before.servedBy ? null : delta / seconds]);
  }
  return points;
}

function figure(label: string, testId: string, value: string, hint?: string): HTMLElement {
  return h(
    'div',
    { class: 'figure' },
    h('span', { class: 'value', 'data-testid': testId }, value),
    h('span', { class: 'label' }, label),
    hint ? h('small', null, hint) : null,
  );
}

function statsView(history: StatsHistory): HTMLElement {
  const samples = history.samples;
  const last = samples.at(-1);
  if (!last)
    return h(
      'div',
      null,
      history.error
        ? errorBox(new ApiError('UNAVAILABLE', history.error, 503), 'Reading figures')
        : h('p', { class: 'empty' }, 'No figures yet.'),
    );
  const delivery = rate(samples, (s) => s.delivered);
  const redelivery = rate(samples, (s) => s.expired + s.nacked);
  return h(
    'div',
    null,
    history.error
      ? errorBox(new ApiError('UNAVAILABLE', history.error, 503), 'Latest reading failed; showing the last good one')
      : null,
    h(
      'div',
      { class: 'figures' },
      figure('backlog (undelivered messages)', 'backlog', formatCount(last.backlog)),
      figure('oldest unacked message', 'oldest-age', formatDuration(last.oldestUnackedAgeMillis)),
      figure('awaiting ack', 'ack-pending', formatCount(last.ackPending)),
      figure('open streams', 'open-streams', String(last.openStreams)),
      figure('delivered', 'delivered', formatCount(last.delivered), `${formatCount(last.acknowledged)} acknowledged`),
      figure(
        'redeliveries due',
        'redeliveries',
        formatCount(last.expired + last.nacked),
        `${formatCount(last.expired)} expired, ${formatCount(last.nacked)} nacked`,
      ),
      figure('dead-lettered', 'dead-lettered', formatCount(last.deadLettered)),
      figure('filtered out', 'filtered', formatCount(last.filtered), `${formatCount(last.deduplicated)} deduplicated`),
    ),
    h(
      'div',
      { class: 'charts' },
      lineChart(
        'Backlog (messages)',
        [{ label: 'backlog', className: 's1', points: samples.map((s) => [s.time, s.backlog]) }],
        (v) => formatCount(Math.round(v)),
      ),
      lineChart(
        'Oldest unacknowledged message age',
        [
          {
            label: 'age',
            className: 's2',
            points: samples.map((s) => [s.time, (s.oldestUnackedAgeMillis ?? 0) / 1_000]),
          },
        ],
        (v) => formatDuration(v * 1_000),
      ),
      lineChart(
        'Deliveries per second',
        [
          { label: 'delivered', className: 's1', points: delivery },
          { label: 'redeliveries due (expired + nacked)', className: 's3', points: redelivery },
        ],
        (v) => v.toFixed(v < 10 ? 1 : 0),
      ),
    ),
    h(
      'p',
      { class: 'hint' },
      `Served by ${last.servedBy || '—'}; read every ${history.intervalMillis / 1_000} s, last at ${new Date(last.time).toLocaleTimeString()}. Counters are the serving dispatcher's since it took the subscription.`,
    ),
  );
}

function editDialog(s: SubscriptionView): Promise<boolean> {
  const number = (v: FormValues, name: string) => (v[name] === '' ? undefined : Number(v[name]));
  return actionDialog({
    title: `Update ${s.name}`,
    confirmLabel: 'Update subscription',
    fields: [
      { name: 'ackDeadlineSeconds', label: 'Ack deadline (s)', type: 'number', value: s.ackDeadlineSeconds },
      {
        name: 'minimumBackoffMillis',
        label: 'Retry backoff min (ms)',
        type: 'number',
        value: s.retryPolicy?.minimumBackoffMillis ?? '',
        hint: 'both empty: the default retry policy',
      },
      {
        name: 'maximumBackoffMillis',
        label: 'Retry backoff max (ms)',
        type: 'number',
        value: s.retryPolicy?.maximumBackoffMillis ?? '',
      },
      {
        name: 'deadLetterTopic',
        label: 'Dead-letter topic',
        value: s.deadLetterPolicy?.deadLetterTopic ?? '',
        hint: 'empty: no dead-letter policy',
      },
      {
        name: 'maxDeliveryAttempts',
        label: 'Max delivery attempts',
        type: 'number',
        value: s.deadLetterPolicy?.maxDeliveryAttempts ?? '',
      },
    ],
    describe: (v) => {
      const parts = [`ack deadline ${v.ackDeadlineSeconds} s`];
      parts.push(
        v.minimumBackoffMillis || v.maximumBackoffMillis
          ? `retry backoff ${v.minimumBackoffMillis}–${v.maximumBackoffMillis} ms`
          : 'the default retry policy',
      );
      parts.push(
        v.deadLetterTopic
          ? `dead letters to "${v.deadLetterTopic}" after ${v.maxDeliveryAttempts || 'the default number of'} attempts`
          : 'no dead-letter policy',
      );
      return `Set ${parts.join(', ')} on "${s.name}". Open streams keep their leases; new deliveries follow the change.`;
    },
    action: async (v) => {
      const retry =
        v.minimumBackoffMillis === '' && v.maximumBackoffMillis === ''
          ? null
          : {
              minimumBackoffMillis: number(v, 'minimumBackoffMillis'),
              maximumBackoffMillis: number(v, 'maximumBackoffMillis'),
            };
      const deadLetter =
        v.deadLetterTopic === ''
          ? null
          : { deadLetterTopic: v.deadLetterTopic, maxDeliveryAttempts: number(v, 'maxDeliveryAttempts') };
      await api.patch(`/api/subscriptions/${enc(s.name)}`, {
        ackDeadlineSeconds: number(v, 'ackDeadlineSeconds'),
        retryPolicy: retry,
        deadLetterPolicy: deadLetter,
      });
      navigate(`/subscriptions/${enc(s.name)}`);
    },
  });
}

function seekDialog(s: SubscriptionView): Promise<boolean> {
  return actionDialog({
    title: `Seek ${s.name}`,
    danger: true,
    confirmLabel: 'Seek',
    fields: [
      {
        name: 'to',
        label: 'Move to',
        type: 'select',
        value: 'earliest',
        options: [
          ['earliest', 'Earliest retained message (replay)'],
          ['latest', 'Latest (skip the backlog)'],
          ['time', 'A time…'],
        ],
      },
      { name: 'time', label: 'Time (for “a time”)', type: 'datetime-local' },
    ],
    describe: (v) => {
      if (v.to === 'time' && !v.time) throw new Error('choose a time');
      const where =
        v.to === 'earliest'
          ? 'the earliest retained message: everything retained is delivered again'
          : v.to === 'latest'
            ? 'the end of the topic: the backlog is skipped'
            : `the first message published at or after ${new Date(String(v.time)).toLocaleString()}`;
      return `Move "${s.name}" to ${where}. Leased messages are dropped, for every dispatcher.`;
    },
    action: async (v) => {
      const to = v.to === 'time' ? new Date(String(v.time)).toISOString() : v.to;
      await api.post(`/api/subscriptions/${enc(s.name)}/seek`, { to });
      navigate(`/subscriptions/${enc(s.name)}`);
    },
  });
}

function deleteDialog(s: SubscriptionView): Promise<boolean> {
  return actionDialog({
    title: `Delete ${s.name}`,
    danger: true,
    confirmLabel: 'Delete subscription',
    fields: [{ name: 'confirm', label: `Type ${s.name} to confirm`, required: true }],
    describe: (v) => {
      if (v.confirm !== s.name) throw new Error('the name typed does not match');
      return `Delete subscription "${s.name}" of "${s.topic}". Its connected subscribers' streams are closed with NOT_FOUND.`;
    },
    action: async () => {
      await api.delete(`/api/subscriptions/${enc(s.name)}`);
      navigate(`/topics/${enc(s.topic)}`);
    },
  });
}

export function subscriptionPage(root: HTMLElement, name: string): () => void {
  const header = h('div');
  const stats = h('section', { 'aria-label': 'Figures' }, h('p', { class: 'empty' }, 'Reading figures…'));
  let timer: number | undefined;
  let stopped = false;
  replace(
    root,
    h('p', { class: 'crumbs' }, h('a', { href: '#/subscriptions' }, 'Subscriptions'), ' / ', name),
    header,
    stats,
    accessSection(`subscriptions/${name}`),
  );
  const poll = async () => {
    try {
      const history = await api.get<StatsHistory>(`/api/subscriptions/${enc(name)}/stats`);
      if (stopped) return;
      replace(stats, statsView(history));
      timer = window.setTimeout(poll, history.intervalMillis);
    } catch (error) {
      if (stopped) return;
      replace(stats, errorBox(error, 'Reading figures'));
      timer = window.setTimeout(poll, 5_000);
    }
  };
  void (async () => {
    try {
      const { subscription: s } = await api.get<{ subscription: SubscriptionView }>(`/api/subscriptions/${enc(name)}`);
      replace(
        header,
        h(
          'div',
          { class: 'title' },
          h('h1', null, 'Subscription ', h('span', { class: 'name' }, s.name)),
          h(
            'div',
            { class: 'actions' },
            h('a', { class: 'button', href: `#/subscriptions/${enc(s.name)}/dead-letters` }, 'Dead letters'),
            h('button', { type: 'button', onclick: () => void editDialog(s) }, 'Update'),
            h('button', { type: 'button', onclick: () => void seekDialog(s) }, 'Seek'),
            h('button', { type: 'button', class: 'danger', onclick: () => void deleteDialog(s) }, 'Delete'),
          ),
        ),
        s.detached
          ? errorBox(
              new ApiError(
                'FAILED_PRECONDITION',
                'its topic was deleted: it delivers nothing more and can only be deleted',
                409,
              ),
              'Detached',
            )
          : null,
        facts([
          ['Topic', h('a', { href: `#/topics/${enc(s.topic)}` }, s.topic)],
          ['Filter', s.filter ? h('code', null, s.filter) : 'none (all messages)'],
          ['Ack deadline', `${s.ackDeadlineSeconds} s`],
          [
            'Retry policy',
            s.retryPolicy
              ? `backoff ${formatDuration(s.retryPolicy.minimumBackoffMillis)} to ${formatDuration(s.retryPolicy.maximumBackoffMillis)}`
              : 'default',
          ],
          [
            'Dead-letter policy',
            s.deadLetterPolicy
              ? h(
                  'span',
                  null,
                  'to ',
                  h(
                    'a',
                    { href: `#/topics/${enc(s.deadLetterPolicy.deadLetterTopic)}` },
                    s.deadLetterPolicy.deadLetterTopic,
                  ),
                  ` after ${s.deadLetterPolicy.maxDeliveryAttempts} attempts`,
                )
              : 'none',
          ],
          ['Ordering', s.enableMessageOrdering ? 'by ordering key' : 'off'],
          [
            'Exactly once',
            s.enableExactlyOnceDelivery ? 'on: acks confirmed, never delivered again once confirmed' : 'off',
          ],
          ['Started at', s.start],
          [
            'Last seek',
            s.lastSeek
              ? `at ${formatTime(s.lastSeek.time)}, to offsets ${
                  s.lastSeek.offsets.map((o) => `partition ${o.partition}: ${o.offset}`).join(', ') || '—'
                }`
              : 'never',
          ],
          ['Created', formatTime(s.createTime)],
          ['Registry revision', s.revision],
        ]),
      );
    } catch (error) {
      replace(header, h('h1', null, 'Subscription ', name), errorBox(error, 'Reading the subscription'));
    }
  })();
  void poll();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
