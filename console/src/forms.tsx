import type { ComponentChildren, VNode } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { ApiError } from './api.js';
import { errorMessage, notice, uid } from './dom.js';

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
  min?: number | string;
  max?: number;
  accept?: string;
  /** Shown only when this returns true for the form's current values. */
  when?: (values: Values) => boolean;
}

export type Values = Record<string, string | boolean | File | undefined>;

/** What a submit handler may do with its form besides throwing (a thrown error is shown too). */
export interface FormHandle {
  showError(error: unknown): void;
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

function initialValues(fields: Field[]): Values {
  const values: Values = {};
  for (const field of fields) {
    if (field.type === 'checkbox') values[field.name] = Boolean(field.value);
    else if (field.type === 'file') values[field.name] = undefined;
    // Secrets are write-only: never pre-filled.
    else if (field.type === 'password') values[field.name] = '';
    // As a native select does: a value none of the options has falls back to the first option (or none).
    else if (field.type === 'select') {
      const options = field.options ?? [];
      values[field.name] = options.find((o) => o.value === String(field.value ?? ''))?.value ?? options[0]?.value ?? '';
    } else values[field.name] = field.value === undefined ? '' : String(field.value);
  }
  return values;
}

type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

/**
 * A form of controlled fields: native controls, the API's own validation. The API's error
 * model lands next to the field its message names (aria-invalid, focus), else above the form.
 */
export function Form(props: {
  fields: Field[];
  submitLabel: string;
  onSubmit: (values: Values, form: FormHandle) => Promise<void> | void;
  extra?: ComponentChildren;
  onChange?: (values: Values) => void;
  /** Hands out the form's error display, for actions beside the form that report into it. */
  connect?: (handle: FormHandle) => void;
}): VNode {
  const { fields } = props;
  const [values, setValues] = useState<Values>(() => initialValues(fields));
  const [errors, setErrors] = useState<{ field?: string; message?: string; general?: string }>({});
  const [busy, setBusy] = useState(false);
  const ids = useRef(new Map<string, string>());
  const controls = useRef(new Map<string, Control>());
  const idOf = (name: string) => {
    if (!ids.current.has(name)) ids.current.set(name, uid());
    return ids.current.get(name)!;
  };
  const visible = fields.filter((f) => !f.when || f.when(values));
  const focus = (name: string) => setTimeout(() => controls.current.get(name)?.focus());

  const handle: FormHandle = {
    showError(error) {
      const message = errorMessage(error);
      const field = error instanceof ApiError && error.status === 400 ? fieldNamed(message, visible) : undefined;
      if (field) {
        setErrors({ field: field.name, message });
        focus(field.name);
      } else setErrors({ general: message });
    },
  };

  props.connect?.(handle);

  const change = (field: Field, target: Control) => {
    let value: Values[string];
    if (field.type === 'checkbox') value = (target as HTMLInputElement).checked;
    else if (field.type === 'file') value = (target as HTMLInputElement).files?.[0];
    else value = target.value;
    const next = { ...values, [field.name]: value };
    setValues(next);
    props.onChange?.(next);
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    setErrors({});
    const missing = visible.find((f) => f.required && (values[f.name] === '' || values[f.name] === undefined));
    if (missing) {
      setErrors({ field: missing.name, message: `${missing.label} is required.` });
      focus(missing.name);
      return;
    }
    setBusy(true);
    try {
      await props.onSubmit(values, handle);
    } catch (error) {
      handle.showError(error);
    } finally {
      setBusy(false);
    }
  };

  const control = (field: Field) => {
    const id = idOf(field.name);
    const common = {
      id,
      name: field.name,
      'aria-describedby': `${id}-error${field.hint ? ` ${id}-hint` : ''}`,
      'aria-invalid': errors.field === field.name ? ('true' as const) : undefined,
      required: field.required,
      ref: (el: Control | null) => {
        if (el) controls.current.set(field.name, el);
        else controls.current.delete(field.name);
      },
      onInput: (e: Event) => change(field, e.currentTarget as Control),
      onChange: (e: Event) => change(field, e.currentTarget as Control),
    };
    const value = String(values[field.name] ?? '');
    switch (field.type) {
      case 'select':
        return (
          <select {...common} value={value}>
            {(field.options ?? []).map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        );
      case 'textarea':
        return <textarea {...common} rows={3} placeholder={field.placeholder} value={value} />;
      case 'checkbox':
        return <input {...common} type="checkbox" checked={Boolean(values[field.name])} />;
      case 'file':
        // A file input cannot be set from script: it stays uncontrolled.
        return <input {...common} type="file" accept={field.accept} />;
      case 'password':
        return <input {...common} type="password" autocomplete={field.autocomplete ?? 'new-password'} value={value} />;
      default:
        return (
          <input {...common} type={field.type ?? 'text'} value={value} placeholder={field.placeholder} autocomplete={field.autocomplete ?? 'off'} min={field.min} max={field.max} />
        );
    }
  };

  return (
    <form class="form" noValidate aria-busy={busy ? 'true' : 'false'} onSubmit={submit}>
      <div class="form-error" aria-live="assertive">
        {errors.general ? notice('error', errors.general) : null}
      </div>
      {fields.map((field) => {
        const id = idOf(field.name);
        const label = (
          <label for={id}>
            {field.label}
            {field.required ? (
              <span class="required" aria-hidden="true">
                {' *'}
              </span>
            ) : null}
          </label>
        );
        const input = control(field);
        return (
          <div key={field.name} class={`field field-${field.type ?? 'text'}`} hidden={field.when ? !field.when(values) : false}>
            {field.type === 'checkbox' ? [input, label] : [label, input]}
            {field.hint ? (
              <div id={`${id}-hint`} class="hint">
                {field.hint}
              </div>
            ) : null}
            <div id={`${id}-error`} class="field-error">
              {errors.field === field.name ? errors.message : null}
            </div>
          </div>
        );
      })}
      {props.extra}
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {props.submitLabel}
        </button>
      </div>
    </form>
  );
}

export const text = (values: Values, name: string): string => String(values[name] ?? '').trim();
export const optionalText = (values: Values, name: string): string | undefined => text(values, name) || undefined;
export const num = (values: Values, name: string): number | undefined => (text(values, name) === '' ? undefined : Number(text(values, name)));

/** A <Form> built from data, for views written as h() calls. */
export const formView = (
  fields: Field[],
  submitLabel: string,
  onSubmit: (values: Values, form: FormHandle) => Promise<void> | void,
  extra?: ComponentChildren,
  onChange?: (values: Values) => void,
  connect?: (handle: FormHandle) => void,
): VNode => <Form fields={fields} submitLabel={submitLabel} onSubmit={onSubmit} extra={extra} onChange={onChange} connect={connect} />;
