import type { VNode } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { signIn } from '../api.js';
import { notice } from '../dom.js';
import { Form, text } from '../forms.js';

/** OAuth2 password grant; the API's own words for a wrong password or a lockout. */
export function LoginPage(props: { signedIn: () => void }): VNode {
  const card = useRef<HTMLElement>(null);
  useEffect(() => card.current?.querySelector<HTMLInputElement>('input')?.focus(), []);
  return (
    <main class="login-card" id="main" ref={card}>
      <h1>
        <img src="favicon.svg" alt="" width={32} height={32} /> Rampart
      </h1>
      <p class="muted">Sign in to manage this backup server.</p>
      <Form
        fields={[
          { name: 'username', label: 'User name', required: true, autocomplete: 'username' },
          { name: 'password', label: 'Password', type: 'password', required: true, autocomplete: 'current-password' },
        ]}
        submitLabel="Sign in"
        onSubmit={async (values) => {
          await signIn(text(values, 'username'), String(values.password ?? ''));
          props.signedIn();
        }}
      />
      {notice('info', 'Signing in keeps your session in this tab only: closing or reloading the tab signs you out.')}
    </main>
  );
}
