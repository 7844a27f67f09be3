import type { DemoPage } from '../app/demo-page.js';

export const page: DemoPage = {
  id: 'call',
  title: 'Video call',
  summary: 'A WebRTC meeting room whose signalling travels over Tether; media goes peer to peer.',
  mount() {
    // Placeholder: this page is being built.
  },
};
