import type { DemoPage } from '../app/demo-page.js';

export const page: DemoPage = {
  id: 'game',
  title: 'Multiplayer game',
  summary: 'A real-time arena: an authoritative server ticking binary snapshots, interpolated.',
  mount() {
    // Placeholder: this page is being built.
  },
};
