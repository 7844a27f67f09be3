import type { DemoPage } from '../app/demo-page.js';

/** The conflated topic carrying the demo's live number of connected clients. */
export const CLIENTS_TOPIC = 'demo:clients';

/** The landing page (served at /): the list of use cases and the live client count. */
export const page: DemoPage = {
  id: 'landing',
  title: 'Tether Live',
  summary: 'Every classic WebSocket use case as a working page, on Tether.',
  mount(app) {
    app.topics('demo:', { mode: 'conflated' });
    let last = -1;
    const publish = (): void => {
      const n = app.connections();
      if (n === last) return;
      last = n;
      void app.realtime.publish(CLIENTS_TOPIC, { clients: n });
    };
    app.every(500, publish);
  },
};
