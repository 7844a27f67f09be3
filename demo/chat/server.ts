import type { DemoPage } from '../app/demo-page.js';

export const page: DemoPage = {
  id: 'chat',
  title: 'Chat',
  summary: 'Rooms, nicknames, presence, typing indicators, history on join and delivered ticks.',
  mount() {
    // Placeholder: this page is being built.
  },
};
