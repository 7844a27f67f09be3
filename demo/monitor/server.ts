import type { DemoPage } from '../app/demo-page.js';

export const page: DemoPage = {
  id: 'monitor',
  title: 'Live monitoring',
  summary: 'This server’s own numbers from stats(), streaming every second.',
  mount() {
    // Placeholder: this page is being built.
  },
};
