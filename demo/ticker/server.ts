import type { DemoPage } from '../app/demo-page.js';

export const page: DemoPage = {
  id: 'ticker',
  title: 'Stock ticker',
  summary: 'A simulated market of 60 symbols on a conflated topic: latest prices, never a backlog.',
  mount() {
    // Placeholder: this page is being built.
  },
};
