import './styles.css';
export { h, appRoot } from './dom.js';
export { connectionState, type ConnectionPhase } from './connection-state.js';
export { connectRealtime, nickname, setNickname, wsUrl, RealtimeClient } from './realtime.js';
