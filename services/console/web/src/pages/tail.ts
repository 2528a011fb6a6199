import { ApiError, type MessageView, enc } from '../api';
import { h, replace } from '../dom';
import { attributeChips, errorBox, formatTime } from '../ui';
import { publishDialog } from './topic';

const keep = 500;

/**
 * A live tail over server-sent events. Pause stops drawing, not reading: what arrives meanwhile
 * waits, counted, and is drawn on resume, so that nothing is missed while an operator reads.
 */
export function tailPage(root: HTMLElement, topic: string): () => void {
  let source: EventSource | undefined;
  let paused = false;
  let waiting: MessageView[] = [];
  let shown = 0;
  const state = h('span', { class: 'tail-state', 'data-testid': 'tail-state' }, 'connecting…');
  const counter = h('span', { class: 'hint' });
  const problem = h('div');
  const rows = h('tbody');
  const pause = h('button', { type: 'button', onclick: () => setPaused(!paused) }, 'Pause');
  const from = h(
    'select',
    { 'aria-label': 'Start from', onchange: () => start() },
    h('option', { value: 'now' }, 'messages published from now on'),
    h('option', { value: 'earliest' }, 'the earliest retained message'),
  );
  const filter = h('input', {
    type: 'text',
    placeholder: 'filter, e.g. attributes.region = "eu"',
    'aria-label': 'Tail filter',
  });

  const draw = (messages: MessageView[]) => {
    for (const m of messages) {
      rows.prepend(
        h(
          'tr',
          { 'data-message-id': m.messageId },
          h('td', null, formatTime(m.publishTime)),
          h('td', null, h('code', null, m.messageId)),
          h('td', null, attributeChips(m.attributes)),
          h('td', null, m.orderingKey || '—'),
          h('td', null, h('code', { class: 'data' }, m.dataEncoding === 'base64' ? `base64:${m.data}` : m.data)),
        ),
      );
      shown++;
    }
    while (rows.childElementCount > keep) rows.lastElementChild!.remove();
    counter.textContent = `${shown} received${paused ? `, ${waiting.length} waiting` : ''}`;
  };
  const setPaused = (value: boolean) => {
    paused = value;
    pause.textContent = paused ? 'Resume' : 'Pause';
    if (!paused) {
      const flush = waiting;
      waiting = [];
      draw(flush);
    }
    if (source) state.textContent = paused ? 'paused (still reading)' : 'live';
    counter.textContent = `${shown} received${paused ? `, ${waiting.length} waiting` : ''}`;
  };
  const stop = () => {
    source?.close();
    source = undefined;
  };
  const start = () => {
    stop();
    replace(problem);
    replace(rows);
    shown = 0;
    waiting = [];
    state.textContent = 'connecting…';
    const query = new URLSearchParams({ from: from.value, filter: filter.value.trim() });
    const events = new EventSource(`/api/topics/${enc(topic)}/tail?${query}`);
    source = events;
    events.addEventListener('messages', (event) => {
      const batch = JSON.parse((event as MessageEvent<string>).data) as MessageView[];
      if (paused) {
        waiting.push(...batch);
        counter.textContent = `${shown} received, ${waiting.length} waiting`;
      } else draw(batch);
    });
    events.addEventListener('herald-error', (event) => {
      const error = JSON.parse((event as MessageEvent<string>).data) as { code: string; message: string };
      stop();
      state.textContent = 'stopped';
      replace(problem, errorBox(new ApiError(error.code, error.message, 200), 'The tail ended'));
    });
    // The server's `ready` says the Tail rpc is started (the EventSource's `open` says only that HTTP is).
    events.addEventListener('ready', () => (state.textContent = paused ? 'paused (still reading)' : 'live'));
    events.onerror = () => {
      if (source === events && events.readyState === EventSource.CONNECTING) state.textContent = 'reconnecting…';
    };
  };
  const form = h(
    'form',
    { class: 'inline' },
    h('span', null, 'From'),
    from,
    filter,
    h('button', { type: 'submit' }, 'Restart'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    start();
  });
  replace(
    root,
    h(
      'p',
      { class: 'crumbs' },
      h('a', { href: '#/topics' }, 'Topics'),
      ' / ',
      h('a', { href: `#/topics/${enc(topic)}` }, topic),
      ' / live tail',
    ),
    h(
      'div',
      { class: 'title' },
      h('h1', null, 'Live tail of ', h('span', { class: 'name' }, topic)),
      h(
        'div',
        { class: 'actions' },
        state,
        pause,
        h(
          'button',
          { type: 'button', class: 'primary', onclick: () => void publishDialog(topic) },
          'Publish test message',
        ),
      ),
    ),
    form,
    counter,
    problem,
    h(
      'table',
      { class: 'tail' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ...['Published', 'Message id', 'Attributes', 'Ordering key', 'Data'].map((t) => h('th', null, t)),
        ),
      ),
      rows,
    ),
  );
  start();
  return stop;
}
