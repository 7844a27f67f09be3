import type { DemoPage } from '../app/demo-page.js';

export const page: DemoPage = {
  id: 'collab',
  title: 'Collaborative editing',
  summary: 'A shared document on Yjs with remote cursors, through the stock y-websocket provider.',
  mount() {
    // Placeholder: this page is being built.
  },
};
