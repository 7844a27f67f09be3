/** What the task page's server and front-end agree on. */

export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface Job {
  id: string;
  kind: string;
  title: string;
  /** Who started it (nickname). */
  by: string;
  status: JobStatus;
  /** 0 to 100. */
  progress: number;
  /** What it is doing now, or why it failed. */
  detail: string;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** A removed job's last state: clients drop it. */
  removed?: boolean;
}

export interface JobKind {
  title: string;
  steps: number;
  /** ms per step */
  stepMs: number;
  /** Step texts, cycled. */
  details: string[];
  /** Fails at this fraction with this probability (to show failures). */
  failAt?: number;
  failChance?: number;
}

export const KINDS: Record<string, JobKind> = {
  quick: { title: 'Quick check', steps: 20, stepMs: 120, details: ['checking links', 'checking images', 'checking scripts'] },
  report: { title: 'Export a report', steps: 50, stepMs: 160, details: ['querying', 'aggregating', 'rendering PDF pages', 'compressing'] },
  images: { title: 'Resize 120 images', steps: 120, stepMs: 70, details: ['resizing'] },
  deploy: { title: 'Deploy (may fail)', steps: 40, stepMs: 150, details: ['building', 'uploading', 'switching traffic'], failAt: 0.7, failChance: 0.5 },
};

export const JOBS_TOPIC = 'tasks:jobs';
