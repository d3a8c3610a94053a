import type { ComponentChildren, VNode } from 'preact';
import { errorMessage, toast } from './dom.js';
import { confirmAction, openDialog } from './dialog.js';
import { Form, type Field, type Values } from './forms.js';
import { ListView, type Column, type Filter } from './list-view.js';
import { useInterval, useReload } from './hooks.js';

/** A page heading with its main action. */
export function pageHeader(title: ComponentChildren, ...actions: ComponentChildren[]): VNode {
  return (
    <div class="page-header">
      <h1>{title}</h1>
      <div class="actions">{actions}</div>
    </div>
  );
}

/** Opens a dialog with a form; closes it and says `done` when the submit resolves. */
export function formDialog(
  title: string,
  fields: Field[],
  submitLabel: string,
  submit: (values: Values) => Promise<unknown>,
  done: string,
  after?: () => void,
  intro?: ComponentChildren,
): void {
  openDialog(title, (dialog) => [
    intro,
    <Form
      fields={fields}
      submitLabel={submitLabel}
      onSubmit={async (values) => {
        await submit(values);
        dialog.close();
        toast(done);
        after?.();
      }}
    />,
  ]);
}

export async function confirmRemove(what: string, remove: () => Promise<unknown>, after: () => void): Promise<void> {
  if (!(await confirmAction(`Remove ${what}?`, <p>{what} will be removed. This cannot be undone.</p>, 'Remove', true))) return;
  try {
    await remove();
    toast(`${what} removed`);
  } catch (error) {
    toast(errorMessage(error), 'error');
  }
  after();
}

export function rowActions(...buttons: [string, () => void, string][]): VNode {
  return (
    <div class="row-actions">
      {buttons.map(([label, onclick, aria]) => (
        <button key={label} type="button" class="btn btn-small" onClick={onclick} aria-label={aria}>
          {label}
        </button>
      ))}
    </div>
  );
}

export interface ListPageOptions<T> {
  url: string;
  columns: (reload: () => void) => Column<T>[];
  filters?: Filter[];
  add?: (reload: () => void) => void;
  addLabel?: string;
  intro?: ComponentChildren;
  /** For lists whose rows change on their own (job states): fetched again this often while no dialog is open. */
  refreshEvery?: number;
}

/** A list page: heading, Add button, a server-paged table; row actions and Add reload the list they belong to. */
function ListPage<T>({ title, options }: { title: string; options: ListPageOptions<T> }): VNode {
  const [tick, reload] = useReload();
  useInterval(() => {
    if (!document.querySelector('dialog[open]')) reload();
  }, options.refreshEvery ?? 0);
  return (
    <>
      {pageHeader(
        title,
        options.add ? (
          <button type="button" class="btn btn-primary" onClick={() => options.add!(reload)}>
            {options.addLabel ?? 'Add'}
          </button>
        ) : null,
      )}
      {options.intro}
      <ListView<T> url={options.url} columns={options.columns(reload)} caption={title} filters={options.filters ?? [{ param: 'nameFilter', label: 'Name' }]} reload={tick} />
    </>
  );
}

export const listPage = <T,>(title: string, options: ListPageOptions<T>): VNode => <ListPage<T> title={title} options={options} />;
