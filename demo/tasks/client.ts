import { appRoot, connectRealtime, h } from '../shared/page.js';

// Placeholder: this page is being built. The badge still shows the realtime connection.
connectRealtime();
appRoot().append(h('section', { class: 'soon' }, h('h1', {}, 'Task progress'), h('p', {}, 'Background jobs pushing progress from the server, shared by every tab.'), h('p', {}, 'This page is being built.')));
