import type { DemoPage } from '../app/demo-page.js';

export const page: DemoPage = {
  id: 'danmaku',
  title: 'Live comments',
  summary: 'Danmaku: comments fly across a stage in lanes, hundreds per second.',
  mount() {
    // Placeholder: this page is being built.
  },
};
