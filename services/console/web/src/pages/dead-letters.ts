import { type MessageView, api, enc } from '../api';
import { h, replace } from '../dom';
import { actionDialog, errorBox, formatCount } from '../ui';
import { messagesTable } from './topic';

interface RedriveResult {
  examined: string;
  toExamine: string;
  moved: string;
  recovered: string;
  done: boolean;
}

/** A subscription's dead letters not moved yet, a page at a time, and redrive. */
export function deadLettersPage(root: HTMLElement, subscription: string): void {
  let filter = '';
  let tokens: string[] = [''];
  const list = h('div');
  const load = async () => {
    replace(list, h('p', { class: 'empty' }, 'Reading the dead-letter topic…'));
    try {
      const query = new URLSearchParams({ filter, pageToken: tokens.at(-1)!, pageSize: '50' });
      const page = await api.get<{ messages: MessageView[]; nextPageToken: string }>(
        `/api/subscriptions/${enc(subscription)}/dead-letters?${query}`,
      );
      replace(
        list,
        messagesTable(page.messages, 'No dead letters waiting.'),
        h(
          'div',
          { class: 'pager' },
          h('span', null, `page ${tokens.length} · ${page.messages.length} shown`),
          h(
            'button',
            { type: 'button', disabled: tokens.length === 1, onclick: () => (tokens.pop(), void load()) },
            '← Previous',
          ),
          h(
            'button',
            {
              type: 'button',
              disabled: !page.nextPageToken,
              onclick: () => (tokens.push(page.nextPageToken), void load()),
            },
            'Next →',
          ),
        ),
      );
    } catch (error) {
      replace(list, errorBox(error, 'Reading dead letters'));
    }
  };
  const form = h(
    'form',
    { class: 'inline' },
    h('input', {
      type: 'text',
      name: 'filter',
      placeholder: 'attributes.herald-dead-letter-attempts = "5"',
      'aria-label': 'Dead-letter filter',
    }),
    h('button', { type: 'submit' }, 'Apply filter'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    filter = String(new FormData(form).get('filter') ?? '').trim();
    tokens = [''];
    void load();
  });
  const redrive = () =>
    void actionDialog({
      title: `Redrive dead letters of ${subscription}`,
      danger: true,
      confirmLabel: 'Redrive',
      fields: [],
      describe: () =>
        `Move ${filter ? `the dead letters matching ${filter}` : 'every dead letter'} of "${subscription}" back to it: each is delivered again as a new message, to this subscription alone.`,
      action: async () => {
        const result = await api.post<RedriveResult>(`/api/subscriptions/${enc(subscription)}/dead-letters/redrive`, {
          filter,
        });
        void load();
        return h(
          'p',
          { 'data-testid': 'redrive-result' },
          `Moved ${formatCount(Number(result.moved))} (${formatCount(Number(result.recovered))} recovered from an interrupted redrive) of ${formatCount(Number(result.examined))} records examined.`,
        );
      },
    });
  replace(
    root,
    h(
      'p',
      { class: 'crumbs' },
      h('a', { href: '#/subscriptions' }, 'Subscriptions'),
      ' / ',
      h('a', { href: `#/subscriptions/${enc(subscription)}` }, subscription),
      ' / dead letters',
    ),
    h(
      'div',
      { class: 'title' },
      h('h1', null, 'Dead letters of ', h('span', { class: 'name' }, subscription)),
      h('button', { type: 'button', class: 'danger', onclick: redrive }, 'Redrive…'),
    ),
    form,
    list,
  );
  void load();
}
