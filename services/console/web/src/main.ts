import './style.css';
import { api } from './api';
import { h, replace } from './dom';
import { errorBox } from './ui';
import { deadLettersPage } from './pages/dead-letters';
import { subscriptionPage } from './pages/subscription';
import { tailPage } from './pages/tail';
import { subscriptionsList, topicPage } from './pages/topic';
import { topicsPage } from './pages/topics';

const app = document.getElementById('app')!;
let cleanup: (() => void) | void;

function route(): void {
  cleanup?.();
  cleanup = undefined;
  for (const dialog of document.querySelectorAll('dialog')) dialog.remove();
  const path = (location.hash.slice(1) || '/topics').split('?')[0]!;
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  for (const link of document.querySelectorAll<HTMLElement>('[data-nav]')) {
    link.classList.toggle('current', link.dataset.nav === parts[0]);
  }
  if (parts[0] === 'topics' && parts.length === 1) topicsPage(app);
  else if (parts[0] === 'topics' && parts.length === 2) topicPage(app, parts[1]!);
  else if (parts[0] === 'topics' && parts[2] === 'tail') cleanup = tailPage(app, parts[1]!);
  else if (parts[0] === 'subscriptions' && parts.length === 1) {
    replace(app, h('div', { class: 'title' }, h('h1', null, 'Subscriptions')), subscriptionsList(''));
  } else if (parts[0] === 'subscriptions' && parts.length === 2) cleanup = subscriptionPage(app, parts[1]!);
  else if (parts[0] === 'subscriptions' && parts[2] === 'dead-letters') deadLettersPage(app, parts[1]!);
  else replace(app, h('h1', null, 'Not found'), h('p', null, h('a', { href: '#/topics' }, 'Topics')));
  document.title = `${parts.slice(0, 2).join(' ') || 'topics'} · Herald console`;
}

const plural = (n: number, noun: string) => `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;

/** Whether the console follows the registry: the lists depend on its watch. */
async function registryStatus(): Promise<void> {
  const status = document.getElementById('registry-status')!;
  try {
    // Not through api.get: signed out, this answers 401, which must not redraw the sign-in form being filled.
    const response = await fetch('/api/status');
    if (!response.ok) {
      status.textContent = '';
      return;
    }
    const s = (await response.json()) as {
      registry: { ready: boolean; error: string | null; topics: number; subscriptions: number };
    };
    status.className = `status ${s.registry.error ? 'bad' : 'good'}`;
    status.textContent = s.registry.error
      ? `registry: ${s.registry.error}`
      : `${plural(s.registry.topics, 'topic')} · ${plural(s.registry.subscriptions, 'subscription')}`;
  } catch (error) {
    status.className = 'status bad';
    status.textContent = String(error);
  }
}

/** With CONSOLE_SIGN_IN, the operator's own token: the console keeps it server-side, behind a session cookie. */
function signInPage(): void {
  cleanup?.();
  cleanup = undefined;
  // Signed out (or the session ended): nothing to sign out of until the next sign-in adds it again.
  document.querySelector('header.top nav .sign-out')?.remove();
  const problem = h('div');
  const form = h(
    'form',
    { class: 'sign-in' },
    h('label', { for: 'token' }, 'Bearer token (JWT) the Herald services accept'),
    h('textarea', { id: 'token', name: 'token', rows: 5, required: true }),
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    problem,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await api.post('/api/session', { token: String(new FormData(form).get('token') ?? '') });
      void start();
    } catch (error) {
      replace(problem, errorBox(error, 'Signing in'));
    }
  });
  replace(
    app,
    h('h1', null, 'Sign in'),
    h('p', null, 'Every page and action is served with your token; the services check what it may do.'),
    form,
  );
}

async function start(): Promise<void> {
  const session = await api
    .get<{ signIn: boolean; signedIn: boolean }>('/api/session')
    .catch(() => ({ signIn: false, signedIn: true }));
  const nav = document.querySelector('header.top nav')!;
  nav.querySelector('.sign-out')?.remove();
  if (session.signIn && session.signedIn) {
    nav.append(
      h(
        'a',
        {
          href: '#/topics',
          class: 'sign-out',
          onclick: async (event: Event) => {
            event.preventDefault();
            await api.delete('/api/session');
            signInPage();
          },
        },
        'Sign out',
      ),
    );
  }
  if (!session.signedIn) signInPage();
  else route();
}

window.addEventListener('hashchange', route);
window.addEventListener('herald-sign-in', signInPage);
void start();
void registryStatus();
setInterval(() => void registryStatus(), 5_000);
