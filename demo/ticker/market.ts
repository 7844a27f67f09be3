/** A simulated market: geometric random walks with a little momentum, for the ticker page. */

export interface Quote {
  /** Symbol. */
  s: string;
  /** Price. */
  p: number;
  /** Change since the open, in %. */
  c: number;
  /** Server time (ms). */
  t: number;
  /** How many times this symbol has been updated (so a client can tell it has the latest). */
  n: number;
}

const FIRST = ['Acme', 'Blue', 'Cobalt', 'Delta', 'Echo', 'Fjord', 'Granite', 'Helix', 'Iris', 'Juniper', 'Krypton', 'Lumen', 'Maple', 'Nimbus', 'Orbit'];
const SECOND = ['Systems', 'Energy', 'Foods', 'Labs'];

export interface Instrument {
  symbol: string;
  name: string;
  open: number;
  price: number;
  drift: number;
  n: number;
  /** Recent quotes for charts (time, price), oldest first. */
  series: Array<[number, number]>;
}

export const SERIES_LENGTH = 600;

export class Market {
  readonly instruments: Instrument[] = [];
  private readonly bySymbol = new Map<string, Instrument>();

  constructor(count = 60) {
    let seed = 7;
    const rand = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let i = 0; i < count; i++) {
      const a = FIRST[i % FIRST.length]!;
      const b = SECOND[Math.floor(i / FIRST.length) % SECOND.length]!;
      const symbol = (a.slice(0, 3) + b[0]).toUpperCase();
      const open = Math.round((10 + rand() * 490) * 100) / 100;
      const inst: Instrument = { symbol, name: `${a} ${b}`, open, price: open, drift: 0, n: 0, series: [[Date.now(), open]] };
      this.instruments.push(inst);
      this.bySymbol.set(symbol, inst);
    }
  }

  get(symbol: string): Instrument | undefined {
    return this.bySymbol.get(symbol);
  }

  /** Moves `k` random instruments one step; returns their new quotes. */
  step(k: number, now = Date.now()): Quote[] {
    const out: Quote[] = [];
    for (let i = 0; i < k; i++) {
      const inst = this.instruments[Math.floor(Math.random() * this.instruments.length)]!;
      inst.drift = inst.drift * 0.9 + (Math.random() - 0.5) * 0.0012;
      const shock = (Math.random() - 0.5) * 0.004;
      inst.price = Math.max(0.5, Math.round(inst.price * (1 + inst.drift + shock) * 100) / 100);
      inst.n++;
      inst.series.push([now, inst.price]);
      if (inst.series.length > SERIES_LENGTH) inst.series.shift();
      out.push(this.quote(inst, now));
    }
    return out;
  }

  quote(inst: Instrument, now = Date.now()): Quote {
    return { s: inst.symbol, p: inst.price, c: Math.round(((inst.price - inst.open) / inst.open) * 10000) / 100, t: now, n: inst.n };
  }
}
