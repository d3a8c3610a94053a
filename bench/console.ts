// bench/console: the web console in Debian's Chromium against Rampart as `npm start` runs it,
// with 10,000 stored sessions. Prints the compressed bytes of the first load (HTML + JS + CSS),
// the time from pressing "Sign in" to the drawn dashboard, and the time to draw the sessions
// page (200 rows) and its next page, each the median of BENCH_ROUNDS (default 7) runs.
//   npm run bench:console
import 'reflect-metadata';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import https from 'node:https';
import { launchChromium, signInForm } from './support/browser.js';
import { startRampart } from './support/processes.js';
import { median } from './support/stats.js';
import { seedSessions } from './support/sessions.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const SESSIONS = 10_000;
const PASSWORD = 'Bench-Passw0rd!';

/** Body bytes as a browser receives them (compressed, as it asks for br/gzip). */
function bytesOnTheWire(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { rejectUnauthorized: false, headers: { 'accept-encoding': 'br, gzip' } }, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () => resolve(bytes));
      })
      .on('error', reject);
  });
}

const dataDir = await mkdtemp(path.join(tmpdir(), 'rampart-bench-console-'));
await seedSessions(dataDir, SESSIONS);
const rampart = await startRampart(dataDir, PASSWORD);
const browser = await launchChromium();
try {
  let firstLoad = 0;
  for (const file of ['/', '/app.js', '/styles.css', '/favicon.svg']) firstLoad += await bytesOnTheWire(`${rampart.url}${file}`);

  const signIn: number[] = [];
  const sessionsPage: number[] = [];
  const nextPage: number[] = [];
  const sessionsApi: number[] = [];
  const apiEnd: number[] = [];
  const inDom: number[] = [];
  const floor: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const page = await signInForm(browser, rampart.url, PASSWORD);
    // Timed inside the page, up to the frame after the last element appears: no DevTools round trips in the figure.
    signIn.push(
      await page.evaluate(
        () =>
          new Promise<number>((resolve) => {
            const t0 = performance.now();
            const check = () =>
              document.querySelector('.server-name') && document.querySelector('.card h2')
                ? requestAnimationFrame(() => resolve(performance.now() - t0))
                : requestAnimationFrame(check);
            document.querySelector<HTMLButtonElement>('button[type=submit]')!.click();
            check();
          }),
      ),
    );
    const drawn = await page.evaluate(
      () =>
        new Promise<{ total: number; api: number; apiEnd: number; inDom: number }>((resolve) => {
          performance.clearResourceTimings();
          const t0 = performance.now();
          let inDom = 0;
          // When the 200 rows enter the document (before style, layout and paint): splits script from rendering.
          const observer = new MutationObserver(() => {
            if (!inDom && document.querySelector('table tbody tr:nth-child(200)')) inDom = performance.now() - t0;
          });
          observer.observe(document.body, { childList: true, subtree: true });
          const check = () => {
            if (!document.querySelector('table tbody tr:nth-child(200)')) return requestAnimationFrame(check);
            requestAnimationFrame(() => {
              observer.disconnect();
              const api = performance.getEntriesByType('resource').find((e) => e.name.includes('/api/v1/sessions?')) as PerformanceResourceTiming | undefined;
              resolve({ total: performance.now() - t0, api: api?.duration ?? 0, apiEnd: api ? api.responseEnd - t0 : 0, inDom });
            });
          };
          location.hash = '#/sessions';
          check();
        }),
    );
    apiEnd.push(drawn.apiEnd);
    inDom.push(drawn.inDom);
    sessionsPage.push(drawn.total);
    sessionsApi.push(drawn.api);
    nextPage.push(
      await page.evaluate(
        () =>
          new Promise<number>((resolve) => {
            const first = document.querySelector('table tbody tr:first-child a')?.textContent;
            const t0 = performance.now();
            const check = () =>
              document.querySelector('table tbody tr:first-child a')?.textContent !== first && document.querySelectorAll('table tbody tr').length === 200
                ? requestAnimationFrame(() => resolve(performance.now() - t0))
                : requestAnimationFrame(check);
            [...document.querySelectorAll('button')].find((b) => b.textContent === 'Next ›')!.click();
            check();
          }),
      ),
    );
    // The floor under the same load: 200 rows of 7 plain cells appended in one go, to the next frame.
    floor.push(
      await page.evaluate(
        () =>
          new Promise<number>((resolve) => {
            const t0 = performance.now();
            const body = document.createElement('tbody');
            for (let i = 0; i < 200; i++) {
              const tr = document.createElement('tr');
              for (let j = 0; j < 7; j++) tr.appendChild(document.createElement('td')).textContent = `cell ${i}.${j}`;
              body.appendChild(tr);
            }
            document.querySelector('table')!.replaceChild(body, document.querySelector('table tbody')!);
            requestAnimationFrame(() => resolve(performance.now() - t0));
          }),
      ),
    );
    await page.context().close();
  }
  const ms = (xs: number[]) => `${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`;
  console.log(`bench/console: ${SESSIONS} sessions stored, ${ROUNDS} rounds (medians), Chromium ${browser.version()}`);
  console.log(`  first load, HTML + JS + CSS compressed   ${(firstLoad / 1024).toFixed(1)} KiB   (target ≤ 250 KB)`);
  console.log(`  "Sign in" → dashboard drawn               ${ms(signIn)}   (target ≤ 1000 ms)`);
  console.log(`  sessions page, 200 rows drawn             ${ms(sessionsPage)}   (target ≤ 200 ms)`);
  console.log(`    of which the API call (network timing)  ${ms(sessionsApi)}`);
  console.log(`    API answer complete at                  ${ms(apiEnd)}`);
  console.log(`    200 rows in the document at             ${ms(inDom)}   (then style, layout, paint to the frame)`);
  console.log(`  next page of 200                          ${ms(nextPage)}`);
  console.log(`  floor: 200 plain rows to the next frame   ${ms(floor)}`);
  console.log(
    `  load average while measuring: ${(await import('node:os'))
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${(await import('node:os')).cpus().length} cores`,
  );
} finally {
  await browser.close();
  await rampart.stop();
  await rm(dataDir, { recursive: true, force: true });
}
