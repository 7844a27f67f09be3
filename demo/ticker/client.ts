import { appRoot, connectRealtime, h } from '../shared/page.js';

// Placeholder: this page is being built. The badge still shows the realtime connection.
connectRealtime();
appRoot().append(h('section', { class: 'soon' }, h('h1', {}, 'Stock ticker'), h('p', {}, 'A simulated market of 60 symbols on a conflated topic: latest prices, never a backlog.'), h('p', {}, 'This page is being built.')));
