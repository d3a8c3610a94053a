import { h, replace, toast } from './dom.js';
import { confirmAction, openDialog } from './dialog.js';
import { buildForm, type Field, type Values } from './forms.js';
import { listView, type Column, type Filter, type ListView } from './list-view.js';

/** A page heading with its main action. */
export function pageHeader(title: string, ...actions: HTMLElement[]): HTMLElement {
  return h('div', { class: 'page-header' }, h('h1', {}, title), h('div', { class: 'actions' }, ...actions));
}

/** Opens a dialog with a form; closes it and says `done` when the submit resolves. */
export function formDialog(
  title: string,
  fields: Field[],
  submitLabel: string,
  submit: (values: Values) => Promise<unknown>,
  done: string,
  after?: () => void,
  intro?: HTMLElement,
): void {
  openDialog(title, (dialog) => {
    const form = buildForm(fields, submitLabel, async (values) => {
      await submit(values);
      dialog.close();
      toast(done);
      after?.();
    });
    return intro ? [intro, form.element] : [form.element];
  });
}

export async function confirmRemove(what: string, remove: () => Promise<unknown>, after: () => void): Promise<void> {
  if (!(await confirmAction(`Remove ${what}?`, [h('p', {}, `${what} will be removed. This cannot be undone.`)], 'Remove', true))) return;
  try {
    await remove();
    toast(`${what} removed`);
  } catch (error) {
    toast(error instanceof Error ? error.message : String(error), 'error');
  }
  after();
}

export function rowActions(...buttons: [string, () => void, string][]): HTMLElement {
  return h(
    'div',
    { class: 'row-actions' },
    buttons.map(([label, onclick, aria]) => h('button', { type: 'button', class: 'btn btn-small', onclick, 'aria-label': aria }, label)),
  );
}

/** A list page: heading, Add button, a server-paged table. */
export async function listPage<T>(
  view: HTMLElement,
  title: string,
  options: { url: string; columns: (reload: () => void) => Column<T>[]; filters?: Filter[]; add?: (reload: () => void) => void; addLabel?: string; intro?: HTMLElement },
): Promise<ListView> {
  // The columns' actions reload the list they belong to, so `reload` is bound before the list exists.
  const holder: { list?: ListView } = {};
  const reload = () => void holder.list?.reload();
  const list = (holder.list = listView<T>({
    url: options.url,
    columns: options.columns(reload),
    caption: title,
    filters: options.filters ?? [{ param: 'nameFilter', label: 'Name' }],
  }));
  replace(
    view,
    pageHeader(title, ...(options.add ? [h('button', { type: 'button', class: 'btn btn-primary', onclick: () => options.add!(reload) }, options.addLabel ?? 'Add')] : [])),
    options.intro ?? null,
    list.element,
  );
  await list.reload();
  return list;
}
