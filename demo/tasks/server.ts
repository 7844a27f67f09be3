import type { DemoPage } from '../app/demo-page.js';

export const page: DemoPage = {
  id: 'tasks',
  title: 'Task progress',
  summary: 'Background jobs pushing progress from the server, shared by every tab.',
  mount() {
    // Placeholder: this page is being built.
  },
};
