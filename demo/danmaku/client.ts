import { appRoot, connectRealtime, h } from '../shared/page.js';

// Placeholder: this page is being built. The badge still shows the realtime connection.
connectRealtime();
appRoot().append(h('section', { class: 'soon' }, h('h1', {}, 'Live comments'), h('p', {}, 'Danmaku: comments fly across a stage in lanes, hundreds per second.'), h('p', {}, 'This page is being built.')));
