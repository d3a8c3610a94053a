// Where the sessions page's time goes: a Chromium timeline trace of one navigation to 200
// sessions, summed by event (script, style, layout, paint). A diagnostic beside bench/console.
//   npx tsx bench/console-profile.ts
import 'reflect-metadata';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launchChromium, signInForm } from './support/browser.js';
import { startRampart } from './support/processes.js';
import { seedSessions } from './support/sessions.js';

const PASSWORD = 'Bench-Passw0rd!';
const dataDir = await mkdtemp(path.join(tmpdir(), 'rampart-bench-console-profile-'));
await seedSessions(dataDir, 10_000);
const rampart = await startRampart(dataDir, PASSWORD);
const browser = await launchChromium();
try {
  const page = await signInForm(browser, rampart.url, PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  await page.waitForLoadState('networkidle');
  for (let round = 0; round < 3; round++) {
    await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline'] });
    const total = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          const t0 = performance.now();
          const check = () =>
            document.querySelector('table tbody tr:nth-child(200)') ? requestAnimationFrame(() => resolve(performance.now() - t0)) : requestAnimationFrame(check);
          location.hash = '#/sessions';
          check();
        }),
    );
    const trace = JSON.parse((await browser.stopTracing()).toString()) as { traceEvents: { name: string; ph: string; dur?: number; args?: { data?: { url?: string } } }[] };
    const sums = new Map<string, number>();
    for (const e of trace.traceEvents) if (e.ph === 'X' && e.dur) sums.set(e.name, (sums.get(e.name) ?? 0) + e.dur / 1000);
    const top = [...sums].filter(([n]) =>
      /^(FunctionCall|EvaluateScript|v8\.compile|RunMicrotasks|UpdateLayoutTree|Layout|Paint|PrePaint|Layerize|Commit|ParseHTML|HitTest|TimerFire|FireAnimationFrame|EventDispatch|ScheduleStyleRecalculation|RecalculateStyles|UpdateLayerTree|IntersectionObserverController::computeIntersections)$/.test(
        n,
      ),
    );
    if (process.env.LAYOUTS)
      for (const e of trace.traceEvents as unknown as {
        name: string;
        ph: string;
        dur?: number;
        args?: { beginData?: { dirtyObjects?: number; totalObjects?: number; stackTrace?: { functionName: string }[] } };
      }[])
        if (e.name === 'Layout' && e.dur)
          console.log(
            `  Layout ${(e.dur / 1000).toFixed(1)} ms, ${e.args?.beginData?.dirtyObjects}/${e.args?.beginData?.totalObjects} objects${e.args?.beginData?.stackTrace ? ` forced by ${e.args.beginData.stackTrace.map((f) => f.functionName).join(' < ')}` : ''}`,
          );
    console.log(`round ${round}: ${total.toFixed(0)} ms to the frame; ` + top.map(([n, d]) => `${n} ${d.toFixed(1)}`).join(', '));
    await page.evaluate(() => (location.hash = '#/'));
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.waitForLoadState('networkidle');
  }
} finally {
  await browser.close();
  await rampart.stop();
  await rm(dataDir, { recursive: true, force: true });
}
