import type { DemoPage } from '../app/demo-page.js';

export const COMMENTS_TOPIC = 'danmaku:live';

const AMBIENT = ['so smooth', 'first!', 'hello from the server', 'this is live', '88888', 'nice', 'wow', 'Tether!', 'lol', 'again!', 'GG', 'which lane am I in?'];
const COLOURS = ['#ffffff', '#fde047', '#67e8f9', '#f9a8d4', '#86efac'];

/**
 * Live comments (danmaku): clients publish comments straight to one reliable topic without
 * history (they only matter live); every viewer's stage flies them across in lanes. The
 * server adds a comment now and then, so that the stage is never empty.
 */
export const page: DemoPage = {
  id: 'danmaku',
  title: 'Live comments',
  summary: 'Danmaku: comments fly across a stage in lanes, hundreds a second; a composer, a rate meter and a flood button.',
  mount(app) {
    app.topics('danmaku:', { historySize: 0 });
    app.allowPublish('danmaku:live');
    let n = 0;
    app.every(1500, () => {
      const text = AMBIENT[n++ % AMBIENT.length]!;
      void app.realtime.publish(COMMENTS_TOPIC, { id: `srv-${n}`, text, color: COLOURS[n % COLOURS.length] });
    });
  },
};
