import { type Paged, type TopicView, api, enc } from '../api';
import { h, replace } from '../dom';
import { navigate } from '../router';
import {
  Pager,
  actionDialog,
  errorBox,
  formatCount,
  formatDuration,
  formatRate,
  formatTime,
  searchBox,
  table,
} from '../ui';

export function topicCreateDialog(): Promise<boolean> {
  return actionDialog({
    title: 'Create a topic',
    confirmLabel: 'Create topic',
    fields: [
      {
        name: 'name',
        label: 'Name',
        required: true,
        placeholder: 'orders',
        hint: '3 to 200 characters: a letter, then letters, digits, . _ -',
      },
      { name: 'partitions', label: 'Partitions', type: 'number', placeholder: 'registry default (3)' },
      { name: 'retentionHours', label: 'Retention (hours)', type: 'number', placeholder: 'registry default (7 days)' },
    ],
    describe: (v) =>
      `Create topic "${v.name}" with ${v.partitions || "the registry's default number of"} partitions, keeping messages ${
        v.retentionHours ? `${v.retentionHours} hours` : "the registry's default time"
      }.`,
    action: async (v) => {
      const { topic } = await api.post<{ topic: TopicView }>('/api/topics', {
        name: v.name,
        partitions: v.partitions || undefined,
        retentionHours: v.retentionHours || undefined,
      });
      navigate(`/topics/${enc(topic.name)}`);
    },
  });
}

/** Every topic, a page at a time, searched on the server. */
export function topicsPage(root: HTMLElement): void {
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  let search = params.get('search') ?? '';
  const list = h('div', { class: 'list' });
  const pager = new Pager(() => void load());
  const load = async () => {
    try {
      const query = new URLSearchParams({ search, pageToken: pager.token, pageSize: '50' });
      const page = await api.get<{ topics: TopicView[] } & Paged>(`/api/topics?${query}`);
      replace(
        list,
        table(
          ['Topic', 'Partitions', 'Replication', 'Retention', 'Subscriptions', 'Publish rate', 'Created'],
          page.topics.map((t) => [
            h('a', { href: `#/topics/${enc(t.name)}` }, t.name),
            t.partitions,
            t.replicationFactor,
            formatDuration(t.retentionMillis),
            formatCount(t.subscriptions),
            formatRate(t.publishRate),
            formatTime(t.createTime),
          ]),
          search ? `No topic matches “${search}”.` : 'No topics yet: create one.',
        ),
        pager.controls(page.nextPageToken, page.topics.length, page.totalMatching, 'topic'),
      );
    } catch (error) {
      replace(list, errorBox(error, 'Listing topics'));
    }
  };
  replace(
    root,
    h(
      'div',
      { class: 'title' },
      h('h1', null, 'Topics'),
      h('button', { type: 'button', class: 'primary', onclick: () => void topicCreateDialog() }, 'Create topic'),
    ),
    searchBox('Search topics by name', search, (text) => {
      search = text.trim();
      pager.reset();
      void load();
    }),
    list,
  );
  void load();
}
