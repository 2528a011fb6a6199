import { ApiError } from './api';
import { type Child, h, replace } from './dom';

export function formatDuration(millis: number | null | undefined): string {
  if (millis === null || millis === undefined) return '—';
  if (millis < 1_000) return `${Math.round(millis)} ms`;
  const seconds = millis / 1_000;
  if (seconds < 120) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = seconds / 60;
  if (minutes < 120) return `${minutes.toFixed(0)} min`;
  const hours = minutes / 60;
  if (hours < 72) return `${hours.toFixed(0)} h`;
  return `${(hours / 24).toFixed(hours < 240 ? 1 : 0)} days`;
}

export function formatTime(iso: string | number | null | undefined): string {
  if (iso === null || iso === undefined) return '—';
  const time = new Date(iso);
  return `${time.toLocaleDateString()} ${time.toLocaleTimeString()}`;
}

/** Messages per second, or a dash when the console does not read the publishers' metrics. */
export function formatRate(perSecond: number | null): string {
  if (perSecond === null) return '—';
  return `${perSecond < 10 ? perSecond.toFixed(1) : formatCount(Math.round(perSecond))}/s`;
}

export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}

/** A failure as the operator should read it: the status name from Herald, then what the service said. */
export function errorBox(error: unknown, context?: string): HTMLElement {
  const code = error instanceof ApiError ? error.code : 'ERROR';
  const detail = error instanceof ApiError ? error.detail : String(error);
  return h(
    'div',
    { class: 'error', role: 'alert' },
    h('span', { class: 'code' }, code),
    ' ',
    context ? `${context}: ` : '',
    detail,
  );
}

/** A definition list of label → value rows. */
export function facts(rows: Array<[string, Child]>): HTMLElement {
  return h('dl', { class: 'facts' }, ...rows.flatMap(([label, value]) => [h('dt', null, label), h('dd', null, value)]));
}

export function table(headers: string[], rows: Child[][], empty = 'Nothing here.'): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty);
  return h(
    'table',
    null,
    h('thead', null, h('tr', null, ...headers.map((header) => h('th', null, header)))),
    h('tbody', null, ...rows.map((cells) => h('tr', null, ...cells.map((cell) => h('td', null, cell))))),
  );
}

/** Attributes as `key=value` chips. */
export function attributeChips(attributes: Record<string, string>): HTMLElement {
  const entries = Object.entries(attributes);
  return h(
    'span',
    { class: 'chips' },
    ...entries.map(([key, value]) => h('span', { class: 'chip' }, `${key}=${value}`)),
    entries.length === 0 ? '—' : null,
  );
}

/** A field of a form dialog. */
export interface Field {
  name: string;
  label: string;
  type?: 'text' | 'number' | 'textarea' | 'checkbox' | 'select' | 'datetime-local';
  value?: string | number | boolean;
  placeholder?: string;
  hint?: string;
  options?: Array<[string, string]>;
  required?: boolean;
}

export type FormValues = Record<string, string | boolean>;

function fieldInput(field: Field): HTMLElement {
  const id = `field-${field.name}`;
  const common = { id, name: field.name, placeholder: field.placeholder, required: field.required };
  if (field.type === 'textarea') return h('textarea', { ...common, rows: 4, value: String(field.value ?? '') });
  if (field.type === 'checkbox') return h('input', { id, name: field.name, type: 'checkbox', checked: !!field.value });
  if (field.type === 'select') {
    return h(
      'select',
      { id, name: field.name },
      ...(field.options ?? []).map(([value, label]) =>
        h('option', { value, selected: value === field.value ? true : undefined }, label),
      ),
    );
  }
  return h('input', {
    ...common,
    type: field.type ?? 'text',
    value: field.value === undefined ? '' : String(field.value),
  });
}

function readValues(form: HTMLFormElement, fields: Field[]): FormValues {
  const values: FormValues = {};
  for (const field of fields) {
    const element = form.elements.namedItem(field.name) as HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;
    values[field.name] = field.type === 'checkbox' ? (element as HTMLInputElement).checked : element.value.trim();
  }
  return values;
}

export interface ActionDialogOptions {
  title: string;
  fields: Field[];
  /** The sentence the operator confirms, from what was filled in. */
  describe: (values: FormValues) => string;
  /** The button that performs the action, after confirmation. */
  confirmLabel: string;
  danger?: boolean;
  /** Performs it; a failure is shown in the dialog, which stays open. The result is shown under "Done". */
  action: (values: FormValues) => Promise<Child | void>;
}

/**
 * Every change goes through two steps: a form, then a review of exactly what will be asked of Herald,
 * confirmed with a second click. A failure shows the service's answer in the dialog, which stays open
 * to correct the form.
 */
export function actionDialog(options: ActionDialogOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: options.danger ? 'danger' : undefined, 'aria-label': options.title });
    const body = h('div');
    let values: FormValues = {};
    const close = (done: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(done);
    };
    const form = h('form', { method: 'dialog' });
    const showForm = (error?: unknown) => {
      replace(
        form,
        ...options.fields.map((field) =>
          h(
            'div',
            { class: `field ${field.type === 'checkbox' ? 'check' : ''}` },
            h('label', { for: `field-${field.name}` }, field.label),
            fieldInput({ ...field, value: values[field.name] ?? field.value }),
            field.hint ? h('small', null, field.hint) : null,
          ),
        ),
        error ? errorBox(error) : null,
        h(
          'div',
          { class: 'buttons' },
          h('button', { type: 'button', onclick: () => close(false) }, 'Cancel'),
          h('button', { type: 'submit', class: 'primary' }, 'Review'),
        ),
      );
      replace(body, form);
      (form.querySelector('input,textarea,select') as HTMLElement | null)?.focus();
    };
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      values = readValues(form, options.fields);
      try {
        showReview();
      } catch (error) {
        showForm(error);
      }
    });
    const showReview = () => {
      const confirm = h(
        'button',
        {
          type: 'button',
          class: options.danger ? 'danger' : 'primary',
          onclick: async () => {
            confirm.setAttribute('disabled', '');
            confirm.textContent = 'Working…';
            try {
              const result = await options.action(values);
              replace(
                body,
                h('p', { class: 'done', role: 'status' }, 'Done.'),
                result ?? null,
                h('div', { class: 'buttons' }, h('button', { type: 'button', onclick: () => close(true) }, 'Close')),
              );
              if (result === undefined) close(true);
            } catch (error) {
              showForm(error);
            }
          },
        },
        options.confirmLabel,
      );
      replace(
        body,
        h('p', { class: 'review' }, options.describe(values)),
        h(
          'div',
          { class: 'buttons' },
          h('button', { type: 'button', onclick: () => (options.fields.length ? showForm() : close(false)) }, 'Back'),
          confirm,
        ),
      );
      confirm.focus();
    };
    dialog.append(h('h2', null, options.title), body);
    dialog.addEventListener('cancel', () => resolve(false));
    document.body.append(dialog);
    if (options.fields.length) showForm();
    else showReview();
    dialog.showModal();
  });
}

/** Previous / next over server-side pages: the page tokens seen so far are kept to go back. */
export class Pager {
  private tokens: string[] = [''];

  constructor(private readonly reload: () => void) {}

  get token(): string {
    return this.tokens.at(-1)!;
  }

  reset(): void {
    this.tokens = [''];
  }

  controls(nextPageToken: string, shown: number, total: number, noun: string): HTMLElement {
    return h(
      'div',
      { class: 'pager' },
      h(
        'span',
        null,
        `${formatCount(total)} ${noun}${total === 1 ? '' : 's'} · page ${this.tokens.length} · ${shown} shown`,
      ),
      h(
        'button',
        {
          type: 'button',
          disabled: this.tokens.length === 1,
          onclick: () => {
            this.tokens.pop();
            this.reload();
          },
        },
        '← Previous',
      ),
      h(
        'button',
        {
          type: 'button',
          disabled: nextPageToken === '',
          onclick: () => {
            this.tokens.push(nextPageToken);
            this.reload();
          },
        },
        'Next →',
      ),
    );
  }
}

/** A search box that calls `onSearch` once typing pauses. */
export function searchBox(placeholder: string, value: string, onSearch: (value: string) => void): HTMLElement {
  let timer: number | undefined;
  return h('input', {
    type: 'search',
    class: 'search',
    'aria-label': placeholder,
    placeholder,
    value,
    oninput: (event: Event) => {
      clearTimeout(timer);
      const text = (event.target as HTMLInputElement).value;
      timer = window.setTimeout(() => onSearch(text), 250);
    },
  });
}
