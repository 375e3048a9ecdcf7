// lockbox console: a small asciicast v2 player. A terminal grid of the recording's size, fed
// the session's output events in time; what a session printed is drawn with textContent only,
// so an escape sequence moves the cursor or changes a colour and nothing else (no links, no
// titles, no clipboard, nothing the recorded user typed can reach the page as markup).
'use strict';

// The subset of a VT100/xterm a shell session needs to look right: printable text, CR, LF,
// BS, TAB, cursor moves, erase in line/display, SGR colours and bold, the alternate screen
// (as a clear). Other sequences are consumed and ignored.
class Terminal {
  constructor(cols, rows) {
    this.cols = cols;
    this.rows = rows;
    this.reset();
  }

  reset() {
    this.grid = Array.from({ length: this.rows }, () => this.blankRow());
    this.x = 0;
    this.y = 0;
    this.attr = '';
    this.state = 'text';
    this.seq = '';
  }

  blankRow() { return Array.from({ length: this.cols }, () => ({ ch: ' ', a: '' })); }

  scroll() {
    this.grid.shift();
    this.grid.push(this.blankRow());
  }

  newline() {
    if (this.y === this.rows - 1) this.scroll(); else this.y += 1;
  }

  put(ch) {
    if (this.x >= this.cols) { this.x = 0; this.newline(); }
    this.grid[this.y][this.x] = { ch, a: this.attr };
    this.x += 1;
  }

  write(text) {
    for (const ch of text) this.feed(ch);
  }

  feed(ch) {
    const c = ch.codePointAt(0);
    if (this.state === 'esc') return this.escape(ch);
    if (this.state === 'csi') return this.csiByte(ch);
    if (this.state === 'osc') {
      // An OSC string (window title, hyperlink, clipboard) ends at BEL or ESC \; it is dropped.
      if (c === 7) this.state = 'text';
      else if (c === 27) this.state = 'esc';
      return undefined;
    }
    if (c === 27) { this.state = 'esc'; return undefined; }
    if (c === 13) { this.x = 0; return undefined; }
    if (c === 10 || c === 11 || c === 12) { this.newline(); return undefined; }
    if (c === 8) { this.x = Math.max(0, this.x - 1); return undefined; }
    if (c === 9) { this.x = Math.min(this.cols - 1, (Math.floor(this.x / 8) + 1) * 8); return undefined; }
    if (c < 32 || c === 127 || (c >= 0x80 && c < 0xa0)) return undefined;
    this.put(ch);
    return undefined;
  }

  escape(ch) {
    this.state = 'text';
    if (ch === '[') { this.state = 'csi'; this.seq = ''; } else if (ch === ']') this.state = 'osc';
    else if (ch === 'c') this.reset();
    else if (ch === 'M') { if (this.y > 0) this.y -= 1; }
    else if (ch === 'D') this.newline();
    else if (ch === 'E') { this.x = 0; this.newline(); }
    // Others (charset selection, keypad modes, save/restore) draw nothing.
  }

  csiByte(ch) {
    const c = ch.codePointAt(0);
    if (c >= 0x40 && c <= 0x7e) { this.state = 'text'; this.csi(ch, this.seq); return; }
    if (this.seq.length > 64) { this.state = 'text'; return; }
    this.seq += ch;
  }

  csi(final, seq) {
    const priv = /^[?>=!]/.test(seq);
    const args = seq.replace(/^[?>=!]/, '').split(';').map((s) => parseInt(s, 10));
    const n = (i, d) => (Number.isNaN(args[i]) || args[i] === undefined ? d : args[i]);
    const clampX = (v) => Math.max(0, Math.min(this.cols - 1, v));
    const clampY = (v) => Math.max(0, Math.min(this.rows - 1, v));
    switch (final) {
      case 'A': this.y = clampY(this.y - Math.max(1, n(0, 1))); break;
      case 'B': this.y = clampY(this.y + Math.max(1, n(0, 1))); break;
      case 'C': this.x = clampX(this.x + Math.max(1, n(0, 1))); break;
      case 'D': this.x = clampX(this.x - Math.max(1, n(0, 1))); break;
      case 'G': this.x = clampX(n(0, 1) - 1); break;
      case 'd': this.y = clampY(n(0, 1) - 1); break;
      case 'H': case 'f': this.y = clampY(n(0, 1) - 1); this.x = clampX(n(1, 1) - 1); break;
      case 'J': this.eraseDisplay(n(0, 0)); break;
      case 'K': this.eraseLine(n(0, 0)); break;
      case 'm': if (!priv) this.sgr(args); break;
      case 'h': case 'l':
        // The alternate screen (?1049, ?47): a full-screen program starts or ends on a clear one.
        if (priv && args.some((a) => a === 1049 || a === 47 || a === 1047)) { this.eraseDisplay(2); this.x = 0; this.y = 0; }
        break;
      default: break;
    }
  }

  eraseLine(mode) {
    const row = this.grid[this.y];
    const [from, to] = mode === 1 ? [0, this.x + 1] : mode === 2 ? [0, this.cols] : [this.x, this.cols];
    for (let i = from; i < Math.min(to, this.cols); i++) row[i] = { ch: ' ', a: '' };
  }

  eraseDisplay(mode) {
    if (mode === 2 || mode === 3) { this.grid = this.grid.map(() => this.blankRow()); return; }
    const saveY = this.y;
    this.eraseLine(mode === 1 ? 1 : 0);
    const rows = mode === 1 ? [...Array(saveY).keys()] : [...Array(this.rows - saveY - 1).keys()].map((i) => i + saveY + 1);
    for (const r of rows) this.grid[r] = this.blankRow();
  }

  // Attributes as class names (the page's CSP allows no inline style): b, u, fg0..fg15, bg0..bg7.
  sgr(args) {
    let bold = this.attr.includes('b ');
    let under = this.attr.includes('u ');
    let fg = (/fg(\d+)/.exec(this.attr) || [])[1];
    let bg = (/bg(\d+)/.exec(this.attr) || [])[1];
    const list = args.length ? args : [0];
    for (let i = 0; i < list.length; i++) {
      const a = Number.isNaN(list[i]) ? 0 : list[i];
      if (a === 0) { bold = false; under = false; fg = undefined; bg = undefined; }
      else if (a === 1) bold = true;
      else if (a === 4) under = true;
      else if (a === 22) bold = false;
      else if (a === 24) under = false;
      else if (a >= 30 && a <= 37) fg = a - 30;
      else if (a >= 90 && a <= 97) fg = a - 90 + 8;
      else if (a === 39) fg = undefined;
      else if (a >= 40 && a <= 47) bg = a - 40;
      else if (a === 49) bg = undefined;
      else if ((a === 38 || a === 48) && list[i + 1] === 5) {
        const v = list[i + 2];
        if (v >= 0 && v < 16) { if (a === 38) fg = v; else bg = v % 8; }
        i += 2;
      } else if ((a === 38 || a === 48) && list[i + 1] === 2) i += 4;
    }
    this.attr = (bold ? 'b ' : '') + (under ? 'u ' : '') + (fg !== undefined ? 'fg' + fg + ' ' : '') + (bg !== undefined ? 'bg' + bg + ' ' : '');
  }

  // One <div> per row, runs of equal attributes as <span>s.
  render(screen) {
    const rows = this.grid.map((row) => {
      const div = document.createElement('div');
      let run = '';
      let attr = null;
      const flush = () => {
        if (run === '') return;
        const span = document.createElement('span');
        if (attr) span.className = attr.trim();
        span.textContent = run;
        div.appendChild(span);
      };
      for (const cell of row) {
        if (cell.a !== attr) { flush(); run = ''; attr = cell.a; }
        run += cell.ch;
      }
      flush();
      return div;
    });
    screen.replaceChildren(...rows);
  }

  text() { return this.grid.map((r) => r.map((c) => c.ch).join('').trimEnd()).join('\n'); }
}

// Parses an asciicast v2 text: {header, events: [[time, data]...]} with output events only.
function parseCast(text) {
  const lines = String(text).split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new Error('empty recording');
  const header = JSON.parse(lines[0]);
  if (header.version !== 2) throw new Error('not an asciicast v2 recording');
  const events = [];
  for (const l of lines.slice(1)) {
    const e = JSON.parse(l);
    if (Array.isArray(e) && e[1] === 'o' && typeof e[2] === 'string' && typeof e[0] === 'number') events.push([e[0], e[2]]);
  }
  return { header, events };
}

// A player: the terminal, Play/Pause, speed, a position slider. Idle gaps longer than
// IDLE_CAP seconds are shortened, as asciinema's idle_time_limit does.
const IDLE_CAP = 2;

function castPlayer(text) {
  const { header, events } = parseCast(text);
  const cols = Math.min(Math.max(header.width | 0, 1), 1000);
  const rows = Math.min(Math.max(header.height | 0, 1), 1000);
  // Playback times with long idle gaps cut.
  const times = [];
  let t = 0;
  let prev = 0;
  for (const [at] of events) { t += Math.min(Math.max(at - prev, 0), IDLE_CAP); prev = at; times.push(t); }
  const total = times.length ? times[times.length - 1] : 0;
  const term = new Terminal(cols, rows);
  const screen = el('pre', { class: 'term', id: 'term', 'aria-label': 'Session replay', tabindex: 0 });
  const play = el('button', { type: 'button', id: 'play', text: 'Play' });
  const speed = el('select', { id: 'speed', 'aria-label': 'Speed' }, ...[1, 2, 4, 8].map((s) => el('option', { value: s, text: s + '×' })));
  const pos = el('input', { type: 'range', id: 'seek', min: 0, max: Math.ceil(total * 10), value: 0, 'aria-label': 'Position' });
  const clock = el('span', { class: 'muted', id: 'clock' });
  let next = 0; // index of the next event to draw
  let at = 0; // playback position, seconds
  let timer = null;
  let last = 0;

  const draw = () => {
    term.render(screen);
    pos.value = String(Math.round(at * 10));
    clock.textContent = fmtDuration(at) + ' / ' + fmtDuration(total);
  };
  const advanceTo = (target) => {
    if (target < at) { term.reset(); next = 0; }
    while (next < events.length && times[next] <= target) { term.write(events[next][1]); next += 1; }
    at = Math.min(target, total);
  };
  const stop = () => { if (timer) clearInterval(timer); timer = null; play.textContent = 'Play'; };
  const tick = () => {
    const now = performance.now();
    advanceTo(at + ((now - last) / 1000) * Number(speed.value));
    last = now;
    draw();
    if (at >= total) stop();
  };
  play.addEventListener('click', () => {
    if (timer) { stop(); return; }
    if (at >= total) advanceTo(0);
    last = performance.now();
    timer = setInterval(tick, 50);
    state.timers.push(timer);
    play.textContent = 'Pause';
  });
  pos.addEventListener('input', () => { advanceTo(Number(pos.value) / 10); draw(); });
  draw();
  return {
    node: el('div', { class: 'player' }, el('div', { class: 'actions' }, play, speed, pos, clock), screen),
    finish: () => { stop(); advanceTo(total); draw(); },
    text: () => term.text(),
  };
}
