import { appRoot, connectRealtime, h } from '../shared/page.js';
import { JOBS_TOPIC, KINDS, type Job } from './tasks-protocol.js';
import './tasks.css';

const client = connectRealtime();
const jobs = new Map<string, { job: Job; el: HTMLElement }>();

const list = h('ol', { class: 'tasks-list', 'aria-live': 'polite' });
const empty = h('p', { class: 'tasks-empty muted' }, 'No jobs yet. Start one: it runs on the server, and every tab sees it.');
const summary = h('span', { class: 'tasks-summary muted' });
const buttons = Object.entries(KINDS).map(([kind, k]) =>
  h('button', { class: 'btn', type: 'button', 'data-kind': kind, onclick: () => start(kind) }, '▶ ', k.title),
);

appRoot().append(
  h('section', { class: 'tasks-head' },
    h('div', {}, h('h1', {}, 'Task progress'), h('p', { class: 'muted' }, 'Background jobs run on the server and push their progress. Open this page in another tab, or reload it mid-job: every job shows where it is.')),
  ),
  h('div', { class: 'panel tasks-start' }, h('div', { class: 'row' }, ...buttons), h('div', { class: 'row tasks-tools' }, summary, h('button', { class: 'btn', type: 'button', onclick: () => void client.request('tasks.clear') }, 'Clear finished'))),
  h('div', { class: 'tasks-body' }, empty, list),
);

function start(kind: string): void {
  client.request('tasks.start', { kind }).catch((err: Error) => alert(`Could not start the job: ${err.message}`));
}

function elapsed(job: Job): string {
  const from = job.startedAt ?? job.createdAt;
  const to = job.finishedAt ?? Date.now();
  const s = Math.max(0, Math.round((to - from) / 1000));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

function eta(job: Job): string {
  if (job.status !== 'running' || job.startedAt === null || job.progress <= 0) return '';
  const spent = Date.now() - job.startedAt;
  const left = Math.round((spent * (100 - job.progress)) / job.progress / 1000);
  return ` · about ${left} s left`;
}

function render(job: Job): HTMLElement {
  const cancel = job.status === 'queued' || job.status === 'running'
    ? h('button', { class: 'btn tasks-cancel', type: 'button', onclick: () => void client.request('tasks.cancel', { id: job.id }) }, 'Cancel')
    : null;
  return h('li', { class: 'panel tasks-job', 'data-id': job.id, 'data-status': job.status, 'data-progress': job.progress },
    h('div', { class: 'tasks-job-head' },
      h('strong', {}, job.title),
      h('span', { class: `tasks-badge ${job.status}` }, job.status),
      h('span', { class: 'tasks-pct' }, `${job.progress} %`),
    ),
    h('div', { class: 'tasks-bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': job.progress },
      h('div', { class: 'tasks-fill', style: `width:${job.progress}%` }),
    ),
    h('div', { class: 'tasks-job-foot muted' },
      h('span', { class: 'tasks-detail' }, job.detail),
      h('span', {}, `by ${job.by} · ${elapsed(job)}${eta(job)}`),
      cancel,
    ),
  );
}

function renderSummary(): void {
  const all = [...jobs.values()].map((j) => j.job);
  const running = all.filter((j) => j.status === 'running').length;
  const queued = all.filter((j) => j.status === 'queued').length;
  summary.textContent = `${running} running · ${queued} queued · ${all.length - running - queued} finished`;
  empty.hidden = all.length > 0;
}

/** Applies a job's latest state; conflation may skip steps, never reorder them. */
function apply(job: Job): void {
  const known = jobs.get(job.id);
  if (job.removed) {
    known?.el.remove();
    jobs.delete(job.id);
    return renderSummary();
  }
  const el = render(job);
  if (known) known.el.replaceWith(el);
  else list.prepend(el);
  jobs.set(job.id, { job, el });
  renderSummary();
}

const sub = client.subscribe(JOBS_TOPIC);
sub.on('message', (data) => apply(data as Job));
// After a restart the server's jobs are gone: the old cards go too.
sub.on('unrecoverable', () => {
  for (const { el } of jobs.values()) el.remove();
  jobs.clear();
  renderSummary();
});
renderSummary();
// Elapsed times and ETAs tick between updates.
setInterval(() => {
  for (const entry of jobs.values()) if (entry.job.status === 'running') {
    const el = render(entry.job);
    entry.el.replaceWith(el);
    entry.el = el;
  }
}, 1000);
