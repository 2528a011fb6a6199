import { type MessageView, type Paged, type SubscriptionView, type TopicView, api, enc } from '../api';
import { h, replace } from '../dom';
import { navigate } from '../router';
import { accessSection } from './access';
import {
  type FormValues,
  Pager,
  actionDialog,
  attributeChips,
  errorBox,
  facts,
  formatCount,
  formatDuration,
  formatRate,
  formatTime,
  searchBox,
  table,
} from '../ui';

/** `key=value` lines (or comma-separated pairs) as attributes. */
export function parseAttributes(text: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const pair of text.split(/[\n,]/)) {
    const trimmed = pair.trim();
    if (!trimmed) continue;
    const at = trimmed.indexOf('=');
    if (at <= 0) throw new Error(`"${trimmed}" is not key=value`);
    attributes[trimmed.slice(0, at).trim()] = trimmed.slice(at + 1).trim();
  }
  return attributes;
}

export function publishDialog(topic: string): Promise<boolean> {
  return actionDialog({
    title: `Publish a test message to ${topic}`,
    confirmLabel: 'Publish',
    fields: [
      { name: 'data', label: 'Data (text)', type: 'textarea', placeholder: '{"id": 1}' },
      {
        name: 'attributes',
        label: 'Attributes',
        type: 'textarea',
        placeholder: 'region=eu\nsource=console',
        hint: 'one key=value per line',
      },
      { name: 'orderingKey', label: 'Ordering key', placeholder: 'optional' },
    ],
    describe: (v) => {
      const attributes = Object.entries(parseAttributes(String(v.attributes)));
      return `Publish one message of ${new TextEncoder().encode(String(v.data)).length} bytes to "${topic}"${
        attributes.length
          ? ` with attributes ${attributes.map(([k, value]) => `${k}=${value}`).join(', ')}`
          : ' without attributes'
      }${v.orderingKey ? ` and ordering key "${v.orderingKey}"` : ''}. Every subscription of the topic receives it.`;
    },
    action: async (v) => {
      const { messageId } = await api.post<{ messageId: string }>(`/api/topics/${enc(topic)}/publish`, {
        data: v.data,
        attributes: parseAttributes(String(v.attributes)),
        orderingKey: v.orderingKey || undefined,
      });
      return h('p', null, 'Published, message id ', h('code', { 'data-testid': 'published-id' }, messageId));
    },
  });
}

export function subscriptionCreateDialog(topic: string): Promise<boolean> {
  const number = (v: FormValues, name: string) => (v[name] === '' ? undefined : v[name]);
  return actionDialog({
    title: `Create a subscription to ${topic}`,
    confirmLabel: 'Create subscription',
    fields: [
      { name: 'name', label: 'Name', required: true, placeholder: `${topic}-audit` },
      {
        name: 'startAt',
        label: 'Starts at',
        type: 'select',
        value: 'latest',
        options: [
          ['latest', 'Messages published from now on'],
          ['earliest', 'Earliest retained message'],
        ],
      },
      { name: 'filter', label: 'Filter', placeholder: 'attributes.region = "eu"', hint: 'empty receives everything' },
      { name: 'ackDeadlineSeconds', label: 'Ack deadline (s)', type: 'number', placeholder: '10' },
      { name: 'enableMessageOrdering', label: 'Ordered by ordering key', type: 'checkbox' },
      { name: 'deadLetterTopic', label: 'Dead-letter topic', placeholder: 'none' },
      { name: 'maxDeliveryAttempts', label: 'Max delivery attempts', type: 'number', placeholder: '5' },
      { name: 'minimumBackoffMillis', label: 'Retry backoff min (ms)', type: 'number' },
      { name: 'maximumBackoffMillis', label: 'Retry backoff max (ms)', type: 'number' },
    ],
    describe: (v) =>
      `Create subscription "${v.name}" to "${topic}", starting at ${v.startAt === 'earliest' ? 'the earliest retained message' : 'messages published from now on'}${
        v.filter ? `, receiving only ${v.filter}` : ''
      }${v.deadLetterTopic ? `, dead-lettering to "${v.deadLetterTopic}"` : ''}.`,
    action: async (v) => {
      const { subscription } = await api.post<{ subscription: SubscriptionView }>('/api/subscriptions', {
        name: v.name,
        topic,
        startAt: v.startAt,
        filter: v.filter || undefined,
        ackDeadlineSeconds: number(v, 'ackDeadlineSeconds'),
        enableMessageOrdering: v.enableMessageOrdering,
        deadLetterTopic: v.deadLetterTopic || undefined,
        maxDeliveryAttempts: number(v, 'maxDeliveryAttempts'),
        minimumBackoffMillis: number(v, 'minimumBackoffMillis'),
        maximumBackoffMillis: number(v, 'maximumBackoffMillis'),
      });
      navigate(`/subscriptions/${enc(subscription.name)}`);
    },
  });
}

export function messagesTable(messages: MessageView[], empty: string): HTMLElement {
  return table(
    ['Published', 'Message id', 'Attributes', 'Ordering key', 'Data'],
    messages.map((m) => [
      formatTime(m.publishTime),
      h('code', null, m.messageId),
      attributeChips(m.attributes),
      m.orderingKey || '—',
      h('code', { class: 'data', title: `${m.size} bytes` }, m.dataEncoding === 'base64' ? `base64:${m.data}` : m.data),
    ]),
    empty,
  );
}

/** Subscriptions in a table with their backlog, for a topic page and the subscriptions page. */
export function subscriptionsList(topic: string): HTMLElement {
  let search = '';
  const list = h('div', { class: 'list' });
  const pager = new Pager(() => void load());
  const load = async () => {
    try {
      const query = new URLSearchParams({ search, pageToken: pager.token, pageSize: '50', topic });
      const page = await api.get<{ subscriptions: SubscriptionView[]; statsError: string | null } & Paged>(
        `/api/subscriptions?${query}`,
      );
      replace(
        list,
        page.statsError ? errorBox(new Error(page.statsError), 'Backlog figures unavailable') : null,
        table(
          [
            ...(topic ? [] : ['Topic']),
            'Subscription',
            'Backlog',
            'Oldest unacked',
            'Streams',
            'Filter',
            'Ack deadline',
          ],
          page.subscriptions.map((s) => [
            ...(topic ? [] : [h('a', { href: `#/topics/${enc(s.topic)}` }, s.topic)]),
            h('a', { href: `#/subscriptions/${enc(s.name)}` }, s.name),
            s.stats ? formatCount(s.stats.backlog) : '—',
            s.stats ? formatDuration(s.stats.oldestUnackedAgeMillis) : '—',
            s.stats ? s.stats.openStreams : '—',
            s.filter ? h('code', null, s.filter) : 'all messages',
            `${s.ackDeadlineSeconds} s`,
          ]),
          search ? `No subscription matches “${search}”.` : 'No subscriptions.',
        ),
        pager.controls(page.nextPageToken, page.subscriptions.length, page.totalMatching, 'subscription'),
      );
    } catch (error) {
      replace(list, errorBox(error, 'Listing subscriptions'));
    }
  };
  void load();
  return h(
    'div',
    null,
    searchBox('Search subscriptions by name or topic', search, (text) => {
      search = text.trim();
      pager.reset();
      void load();
    }),
    list,
  );
}

/** Messages of the topic from a position, read through Tail without a subscription. */
function browser(topic: string): HTMLElement {
  const results = h('div');
  const form = h(
    'form',
    { class: 'inline' },
    h('label', { for: 'browse-from' }, 'From'),
    h(
      'select',
      { id: 'browse-from', name: 'from' },
      h('option', { value: 'earliest' }, 'earliest'),
      h('option', { value: 'time' }, 'a time…'),
    ),
    h('input', { type: 'datetime-local', name: 'time', 'aria-label': 'From time', step: 1 }),
    h('label', { for: 'browse-limit' }, 'Up to'),
    h('input', { id: 'browse-limit', type: 'number', name: 'limit', value: 20, min: 1, max: 500 }),
    h('input', {
      type: 'text',
      name: 'filter',
      placeholder: 'filter, e.g. attributes.region = "eu"',
      'aria-label': 'Filter',
    }),
    h('button', { type: 'submit' }, 'Peek'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const time = String(data.get('time') ?? '');
    const from = data.get('from') === 'time' && time ? new Date(time).toISOString() : 'earliest';
    replace(results, h('p', { class: 'empty' }, 'Reading…'));
    try {
      const query = new URLSearchParams({
        from,
        limit: String(data.get('limit') || 20),
        filter: String(data.get('filter') ?? ''),
      });
      const page = await api.get<{ messages: MessageView[]; complete: boolean }>(
        `/api/topics/${enc(topic)}/messages?${query}`,
      );
      replace(
        results,
        messagesTable(page.messages, 'No message from that position.'),
        h(
          'p',
          { class: 'hint' },
          page.complete ? 'Read up to the end of the topic.' : `First ${page.messages.length} shown.`,
        ),
      );
    } catch (error) {
      replace(results, errorBox(error, 'Reading the topic'));
    }
  });
  return h('section', null, h('h2', null, 'Peek messages by position'), form, results);
}

export function topicPage(root: HTMLElement, name: string): void {
  const header = h('div');
  replace(
    root,
    h('p', { class: 'crumbs' }, h('a', { href: '#/topics' }, 'Topics'), ' / ', name),
    header,
    h(
      'section',
      null,
      h(
        'div',
        { class: 'title' },
        h('h2', null, 'Subscriptions'),
        h('button', { type: 'button', onclick: () => void subscriptionCreateDialog(name) }, 'Create subscription'),
      ),
      subscriptionsList(name),
    ),
    browser(name),
    accessSection(`topics/${name}`),
  );
  void (async () => {
    try {
      const { topic } = await api.get<{ topic: TopicView }>(`/api/topics/${enc(name)}`);
      replace(
        header,
        h(
          'div',
          { class: 'title' },
          h('h1', null, 'Topic ', h('span', { class: 'name' }, topic.name)),
          h(
            'div',
            { class: 'actions' },
            h('a', { class: 'button', href: `#/topics/${enc(name)}/tail` }, 'Live tail'),
            h(
              'button',
              { type: 'button', class: 'primary', onclick: () => void publishDialog(name) },
              'Publish test message',
            ),
            h(
              'button',
              {
                type: 'button',
                class: 'danger',
                onclick: () =>
                  void actionDialog({
                    title: `Delete topic ${name}`,
                    danger: true,
                    confirmLabel: 'Delete topic',
                    fields: [{ name: 'confirm', label: `Type ${name} to confirm`, required: true }],
                    describe: (v) => {
                      if (v.confirm !== name) throw new Error('the name typed does not match');
                      return `Delete topic "${name}" and every message in it. Its ${topic.subscriptions} subscription(s) stay, detached: they deliver nothing more and can only be deleted.`;
                    },
                    action: async () => {
                      await api.delete(`/api/topics/${enc(name)}`);
                      navigate('/topics');
                    },
                  }),
              },
              'Delete topic',
            ),
          ),
        ),
        facts([
          ['Partitions', topic.partitions],
          ['Replication factor', topic.replicationFactor],
          ['Retention', formatDuration(topic.retentionMillis)],
          ['Subscriptions', formatCount(topic.subscriptions)],
          ['Publish rate', formatRate(topic.publishRate)],
          ['Created', formatTime(topic.createTime)],
          ['Registry revision', topic.revision],
        ]),
      );
    } catch (error) {
      replace(header, h('h1', null, 'Topic ', name), errorBox(error, 'Reading the topic'));
    }
  })();
}
