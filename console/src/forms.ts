import { ApiError } from './api.js';
import { h, notice, replace, uid } from './dom.js';

/** One form field; `name` is the API's field path (e.g. "repository.path") so its errors land next to it. */
export interface Field {
  name: string;
  label: string;
  type?: 'text' | 'password' | 'number' | 'date' | 'select' | 'textarea' | 'checkbox' | 'file' | 'url';
  value?: string | number | boolean;
  options?: { value: string; label: string }[];
  required?: boolean;
  hint?: string;
  placeholder?: string;
  autocomplete?: string;
  min?: number;
  max?: number;
  accept?: string;
  /** Shown only when this returns true for the form's current values. */
  when?: (values: Values) => boolean;
}

export type Values = Record<string, string | boolean | File | undefined>;

export interface Form {
  element: HTMLFormElement;
  values(): Values;
  /** Puts the API's message next to the field it names, or above the form. */
  showError(error: unknown): void;
  clearErrors(): void;
  busy(on: boolean): void;
}

function control(field: Field, id: string, describedBy: string): HTMLElement {
  const common = { id, name: field.name, 'aria-describedby': describedBy, required: field.required };
  switch (field.type) {
    case 'select':
      return h(
        'select',
        common,
        (field.options ?? []).map((o) => h('option', { value: o.value, selected: String(field.value ?? '') === o.value }, o.label)),
      );
    case 'textarea':
      return h('textarea', { ...common, rows: 3, placeholder: field.placeholder }, String(field.value ?? ''));
    case 'checkbox':
      return h('input', { ...common, type: 'checkbox', checked: Boolean(field.value) });
    case 'file':
      return h('input', { ...common, type: 'file', accept: field.accept });
    case 'password':
      // Secrets are write-only: never pre-filled, never offered to autofill with an old value.
      return h('input', { ...common, type: 'password', autocomplete: field.autocomplete ?? 'new-password', value: '' });
    default:
      return h('input', {
        ...common,
        type: field.type ?? 'text',
        value: field.value === undefined ? undefined : String(field.value),
        placeholder: field.placeholder,
        autocomplete: field.autocomplete ?? 'off',
        min: field.min,
        max: field.max,
      });
  }
}

/** Which field an API message names: `"field"` in quotes, the last path segment counting too. */
function fieldNamed(message: string, fields: Field[]): Field | undefined {
  // Messages name a field in quotes, or lead with it ("encryption.passwordId: required when …").
  const leading = /^([A-Za-z][A-Za-z0-9_.]*): /.exec(message)?.[1];
  const quoted = [...(leading ? [leading] : []), ...[...message.matchAll(/"([A-Za-z0-9_.]+)"/g)].map((m) => m[1])].map((name) => name.toLowerCase());
  for (const name of quoted) {
    const hit = fields.find((f) => f.name.toLowerCase() === name) ?? fields.find((f) => f.name.toLowerCase().endsWith(`.${name}`) || name.endsWith(`.${f.name.toLowerCase()}`));
    if (hit) return hit;
  }
  return undefined;
}

export function buildForm(fields: Field[], submitLabel: string, onSubmit: (values: Values, form: Form) => Promise<void> | void, extra: HTMLElement[] = []): Form {
  const general = h('div', { class: 'form-error', 'aria-live': 'assertive' });
  const rows = new Map<string, { row: HTMLElement; input: HTMLElement; error: HTMLElement; field: Field }>();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, submitLabel);
  const element = h('form', { class: 'form', novalidate: true }, general);
  for (const field of fields) {
    const id = uid();
    const errorId = `${id}-error`;
    const hintId = `${id}-hint`;
    const input = control(field, id, `${errorId}${field.hint ? ` ${hintId}` : ''}`);
    const error = h('div', { id: errorId, class: 'field-error' });
    const label = h('label', { for: id }, field.label, field.required ? h('span', { class: 'required', 'aria-hidden': 'true' }, ' *') : null);
    const row = h(
      'div',
      { class: `field field-${field.type ?? 'text'}` },
      field.type === 'checkbox' ? [input, label] : [label, input],
      field.hint ? h('div', { id: hintId, class: 'hint' }, field.hint) : null,
      error,
    );
    rows.set(field.name, { row, input, error, field });
    element.append(row);
  }
  element.append(...extra, h('div', { class: 'form-actions' }, submit));

  const values = (): Values => {
    const out: Values = {};
    for (const [name, { input, field }] of rows) {
      if (input instanceof HTMLInputElement && field.type === 'checkbox') out[name] = input.checked;
      else if (input instanceof HTMLInputElement && field.type === 'file') out[name] = input.files?.[0];
      else out[name] = (input as HTMLInputElement).value;
    }
    return out;
  };
  const applyVisibility = () => {
    const current = values();
    for (const { row, field } of rows.values()) row.hidden = field.when ? !field.when(current) : false;
  };
  const clearErrors = () => {
    replace(general);
    for (const { input, error } of rows.values()) {
      input.removeAttribute('aria-invalid');
      replace(error);
    }
  };
  const form: Form = {
    element,
    values,
    clearErrors,
    showError(error) {
      const message = error instanceof ApiError || error instanceof Error ? error.message : String(error);
      const visible = [...rows.values()].filter((r) => !r.row.hidden).map((r) => r.field);
      const field = error instanceof ApiError && error.status === 400 ? fieldNamed(message, visible) : undefined;
      if (field) {
        const target = rows.get(field.name)!;
        target.input.setAttribute('aria-invalid', 'true');
        replace(target.error, message);
        target.input.focus();
      } else {
        replace(general, notice('error', message));
      }
    },
    busy(on) {
      submit.disabled = on;
      element.setAttribute('aria-busy', String(on));
    },
  };
  element.addEventListener('change', applyVisibility);
  element.addEventListener('input', applyVisibility);
  element.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors();
    const current = values();
    const missing = [...rows.values()].find((r) => !r.row.hidden && r.field.required && (current[r.field.name] === '' || current[r.field.name] === undefined));
    if (missing) {
      missing.input.setAttribute('aria-invalid', 'true');
      replace(missing.error, `${missing.field.label} is required.`);
      missing.input.focus();
      return;
    }
    form.busy(true);
    try {
      await onSubmit(current, form);
    } catch (error) {
      form.showError(error);
    } finally {
      form.busy(false);
    }
  });
  applyVisibility();
  return form;
}

export const text = (values: Values, name: string): string => String(values[name] ?? '').trim();
export const optionalText = (values: Values, name: string): string | undefined => text(values, name) || undefined;
export const num = (values: Values, name: string): number | undefined => (text(values, name) === '' ? undefined : Number(text(values, name)));
