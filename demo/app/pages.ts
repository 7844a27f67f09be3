import type { DemoPage } from './demo-page.js';
import { page as landing } from '../landing/server.js';
import { page as chat } from '../chat/server.js';
import { page as danmaku } from '../danmaku/server.js';
import { page as ticker } from '../ticker/server.js';
import { page as monitor } from '../monitor/server.js';
import { page as collab } from '../collab/server.js';
import { page as game } from '../game/server.js';
import { page as tasks } from '../tasks/server.js';
import { page as call } from '../call/server.js';

/** Every page, in the landing page's order. Adding a page: its folder, then one line here. */
export const PAGES: DemoPage[] = [landing, chat, danmaku, ticker, monitor, collab, game, tasks, call];
