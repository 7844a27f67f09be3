import { connectRealtime } from '../shared/page.js';
import './landing.css';

const client = connectRealtime();
const count = document.getElementById('client-count')!;
const label = document.getElementById('client-count-label')!;
client.subscribe('demo:clients').on('message', (data) => {
  const n = (data as { clients: number }).clients;
  count.textContent = String(n);
  label.textContent = n === 1 ? 'client connected right now (you)' : 'clients connected right now';
});
