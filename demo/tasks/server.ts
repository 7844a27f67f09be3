import { randomBytes } from 'node:crypto';
import { RealtimeError } from 'tether-ws/realtime';
import type { DemoPage } from '../app/demo-page.js';
import { JOBS_TOPIC, KINDS, type Job } from './tasks-protocol.js';

/** Jobs running at once; the others wait in the queue. */
const CONCURRENCY = 3;
/** Jobs kept (finished ones beyond this are removed, oldest first). */
const KEEP = 40;

/**
 * Task progress: background jobs run on the server and push every change to one conflated
 * topic, keyed by job id. A subscriber (a new tab, a reloaded page) gets the latest state of
 * every job at once, and then only changes; a slow one gets the latest, not every step.
 */
export const page: DemoPage = {
  id: 'tasks',
  title: 'Task progress',
  summary: 'Start background jobs and watch their progress pushed from the server, in every tab, across reloads.',
  mount(app) {
    app.topics('tasks:', { mode: 'conflated', historySize: 500, historyTtl: 3600_000 });
    const rt = app.realtime;
    const jobs = new Map<string, Job>();
    const timers = new Map<string, NodeJS.Timeout>();

    const push = (job: Job): void => {
      void rt.publish(JOBS_TOPIC, job, { key: job.id });
    };

    const finish = (job: Job, status: Job['status'], detail: string): void => {
      clearInterval(timers.get(job.id));
      timers.delete(job.id);
      Object.assign(job, { status, detail, finishedAt: Date.now() });
      push(job);
      schedule();
    };

    const run = (job: Job): void => {
      const kind = KINDS[job.kind]!;
      const fails = kind.failAt !== undefined && Math.random() < (kind.failChance ?? 0);
      let step = 0;
      Object.assign(job, { status: 'running', startedAt: Date.now(), detail: kind.details[0] });
      push(job);
      const timer = setInterval(() => {
        step++;
        job.progress = Math.min(100, Math.round((step / kind.steps) * 100));
        job.detail = kind.details[Math.floor((step / kind.steps) * kind.details.length) % kind.details.length]!;
        if (fails && step / kind.steps >= kind.failAt!) return finish(job, 'failed', `${job.detail} failed: the target did not answer`);
        if (step >= kind.steps) return finish(job, 'done', 'finished');
        push(job);
      }, kind.stepMs);
      timer.unref();
      timers.set(job.id, timer);
    };

    /** Starts queued jobs while there is room, oldest first; drops old finished ones. */
    const schedule = (): void => {
      let running = [...jobs.values()].filter((j) => j.status === 'running').length;
      for (const j of jobs.values()) {
        if (running >= CONCURRENCY) break;
        if (j.status === 'queued') {
          run(j);
          running++;
        }
      }
      const finished = [...jobs.values()].filter((j) => j.finishedAt !== null);
      for (const j of finished.slice(0, Math.max(0, jobs.size - KEEP))) remove(j);
    };

    const remove = (job: Job): void => {
      jobs.delete(job.id);
      push({ ...job, removed: true });
    };

    rt.handle('tasks.start', (data, session) => {
      const kind = (data as { kind?: unknown } | null)?.kind;
      if (typeof kind !== 'string' || !(kind in KINDS)) throw new RealtimeError('bad_request', 'unknown kind of job');
      const job: Job = {
        id: randomBytes(6).toString('hex'), kind, title: KINDS[kind]!.title, by: session.user.name,
        status: 'queued', progress: 0, detail: 'waiting for a worker', createdAt: Date.now(), startedAt: null, finishedAt: null,
      };
      jobs.set(job.id, job);
      push(job);
      schedule();
      return job;
    });

    rt.handle('tasks.cancel', (data) => {
      const job = jobs.get(String((data as { id?: unknown } | null)?.id));
      if (job === undefined) throw new RealtimeError('not_found', 'no such job');
      if (job.status === 'queued' || job.status === 'running') finish(job, 'cancelled', 'cancelled');
      return job;
    });

    rt.handle('tasks.clear', () => {
      for (const j of [...jobs.values()]) if (j.finishedAt !== null) remove(j);
      return null;
    });

    app.onClose(() => {
      for (const t of timers.values()) clearInterval(t);
    });
  },
};
