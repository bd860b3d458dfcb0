/**
 * The timeline page's script, run in the browser: it draws the page from the JSON island
 * `xfed-data` (TimelineData) with SVG, and on the live page fetches that data again every poll and
 * redraws without a reload. Plain ES2017 in a string (the page's CSP admits it by its hash); all
 * text from the log goes in through textContent, never as markup. The only markup it inserts is a
 * ladder, rendered and escaped by renderLadder on the server.
 */
export const TIMELINE_SCRIPT = String.raw`(function () {
'use strict';
var NS = 'http://www.w3.org/2000/svg';
var doc = document;
var island = function (id) { var el = doc.getElementById(id); return el ? JSON.parse(el.textContent) : null; };
var config = island('xfed-config') || {};
var live = config.live || null;
var ladders = island('xfed-ladders') || {};
var data = island('xfed-data');
var chart = doc.getElementById('chart');
var tip = doc.getElementById('tip');
var panel = doc.getElementById('outage');
var byId = {};
var geometry = null;
var shownOutage = null;

function el(tag, attrs, text) {
  var e = doc.createElement(tag);
  for (var k in attrs || {}) if (attrs[k] !== undefined && attrs[k] !== null) e.setAttribute(k, String(attrs[k]));
  if (text !== undefined) e.textContent = String(text);
  return e;
}
function svg(tag, attrs, text) {
  var e = doc.createElementNS(NS, tag);
  for (var k in attrs || {}) if (attrs[k] !== undefined && attrs[k] !== null) e.setAttribute(k, String(attrs[k]));
  if (text !== undefined) e.textContent = String(text);
  return e;
}
function cut(s, n) { return s.length > n ? s.slice(0, n - 1) + '…' : s; }
function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); return e; }
function pad(n, w) { n = String(n); while (n.length < (w || 2)) n = '0' + n; return n; }
function localTime(t, seconds) {
  var d = new Date(t);
  return pad(d.getHours()) + ':' + pad(d.getMinutes()) + (seconds === false ? '' : ':' + pad(d.getSeconds()));
}
function localDate(t) { var d = new Date(t); return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()); }
function localStamp(t) { return localDate(t) + ' ' + localTime(t); }
function utcStamp(t) { return new Date(t).toISOString().replace('T', ' ').slice(0, 19) + ' UTC'; }
function zone() {
  var off = -new Date().getTimezoneOffset();
  return 'UTC' + (off < 0 ? '-' : '+') + pad(Math.floor(Math.abs(off) / 60)) + ':' + pad(Math.abs(off) % 60);
}
function fmtMs(ms) {
  if (ms < 10 && ms !== Math.round(ms)) return ms.toFixed(1) + ' ms';
  if (ms < 1000) return Math.round(ms) + ' ms';
  if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
  var s = Math.round(ms / 1000);
  if (s < 3600) return Math.floor(s / 60) + 'm ' + pad(s % 60) + 's';
  return Math.floor(s / 3600) + 'h ' + pad(Math.floor(s / 60) % 60) + 'm ' + pad(s % 60) + 's';
}
function pct(x) { return x === null || x === undefined ? '-' : (Math.floor(x * 10000) / 100).toFixed(2) + ' %'; }
var STATE_WORD = { met: 'met', unmet: 'unmet (outage)', error: 'error (could not judge)', unknown: 'not measured', mixed: 'changing often' };

function outageWords(o) {
  var end = o.to !== undefined ? localTime(o.to) : o.open === 'stopped' ? 'watch stopped' : o.open === 'gap' ? 'watch paused' : 'ongoing';
  return localTime(o.from) + ' to ' + end + ', ' + fmtMs(o.ms) + (o.to === undefined && o.open !== 'ongoing' ? ' or more' : '');
}
function laneTitle(lane) { return lane.check === '*' ? lane.title : lane.check + ': ' + lane.title; }

/** Tick steps a reader expects on a clock. */
var STEPS = [1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 108e5, 216e5, 432e5, 864e5];
function ticks(from, to, max) {
  var span = Math.max(to - from, 1), step = STEPS[STEPS.length - 1];
  for (var i = 0; i < STEPS.length; i++) if (span / STEPS[i] <= max) { step = STEPS[i]; break; }
  // Aligned in local time, so a 15-minute tick falls on :00, :15, ...
  var off = -new Date(from).getTimezoneOffset() * 6e4;
  var out = [];
  for (var t = Math.ceil((from + off) / step) * step - off; t <= to; t += step) out.push(t);
  return { step: step, list: out };
}

function render() {
  byId = {};
  data.lanes.forEach(function (lane) { lane.outages.forEach(function (o) { byId[o.id] = { outage: o, lane: lane }; }); });
  // A redraw replaces the outages and buttons: the one that had the focus gets it back.
  var active = doc.activeElement, id = active && active.getAttribute && active.getAttribute('data-id');
  var kind = id && active.classList.contains('outage') ? 'outage' : 'show-ladder';
  renderHead();
  renderChart();
  renderTables();
  if (shownOutage && byId[shownOutage]) outageFacts(shownOutage);
  if (id) {
    var again = doc.querySelector('.' + kind + '[data-id="' + id.replace(/[^a-z0-9]/gi, '') + '"]');
    if (again) again.focus();
  }
}

function renderHead() {
  var s = data.settings || {};
  var overall = data.lanes[0] || { state: 'unknown' };
  var h1 = clear(doc.getElementById('title'));
  h1.appendChild(doc.createTextNode('xfed watch: ' + (s.suite || 'no start record yet') + ' '));
  var badgeClass = overall.state === 'met' ? 'met' : overall.state === 'unmet' ? 'unmet' : 'error';
  var word = data.stopped ? 'stopped' : overall.state === 'unknown' ? 'not measured' : overall.state === 'unmet' ? 'federation broken' : overall.state === 'met' ? 'federation up' : 'cannot judge';
  h1.appendChild(el('span', { class: 'badge ' + badgeClass, id: 'overall-state' }, word));
  var facts = [
    ['suite file', s.file], ['target', s.target], ['checks', s.checks ? s.checks.length : undefined],
    ['interval', s.intervalMs !== undefined ? fmtMs(s.intervalMs) : undefined],
    ['duration', s.durationMs !== undefined ? fmtMs(s.durationMs) : s.suite ? 'until stopped' : undefined],
    ['from', localStamp(data.range.from)], ['to', localStamp(data.range.to)], ['rounds', data.rounds],
    ['stopped', data.stopped ? data.stopped.reason : undefined],
    ['log begins at part', data.beginsAtPart],
  ];
  var latest = data.facts.length ? data.facts[data.facts.length - 1] : null;
  if (latest) {
    if (latest.edge) facts.push(['Edge', latest.edge]);
    facts.push(['Edge TLS', latest.tlsVersion || '-']);
    if (latest.certificate) {
      var c = latest.certificate;
      facts.push(['certificate', c.daysLeft + ' days left (' + c.notAfter + ')' + (c.trusted ? '' : ', not trusted') + (c.coversBareDomain ? '' : ', does not cover the bare domain')]);
    }
    if (latest.error) facts.push(['Edge probe', latest.error]);
  }
  var dl = clear(doc.getElementById('facts'));
  facts.forEach(function (f) {
    if (f[1] === undefined || f[1] === null || f[1] === '') return;
    var div = el('div');
    div.appendChild(el('dt', null, f[0]));
    div.appendChild(el('dd', null, f[1]));
    dl.appendChild(div);
  });
}

var LABEL_W = 230, RIGHT_W = 76, BAR_H = 14, LAT_H = 24, AXIS_H = 26, MARK_ROW = 15;

function renderChart() {
  var width = Math.max(640, chart.clientWidth || 960);
  var from = data.range.from, to = Math.max(data.range.to, from + 1000);
  var plotW = width - LABEL_W - RIGHT_W;
  var x = function (t) { return LABEL_W + (Math.min(Math.max(t, from), to) - from) / (to - from) * plotW; };
  // Mark labels in rows, so that neighbours do not overwrite each other.
  var rows = [], placed = [];
  data.marks.forEach(function (m) {
    var mx = x(m.at), w = Math.min(m.text.length, 40) * 6.5 + 10;
    // Near the right edge a label ends at its line.
    var left = mx + w > width ? mx - w : mx;
    for (var r = 0; r < 4; r++) if (!(rows[r] > left)) { rows[r] = left + w; placed.push({ mark: m, row: r, x: mx, end: left < mx }); return; }
    placed.push({ mark: m, row: -1, x: mx });
  });
  var marksH = rows.length * MARK_ROW + (rows.length ? 4 : 0);
  var top = marksH + AXIS_H;
  var lanesY = [], y = top;
  data.lanes.forEach(function (lane) {
    var h = lane.check === '*' ? BAR_H + 12 : BAR_H + LAT_H + 14;
    lanesY.push({ lane: lane, y: y, h: h });
    y += h;
  });
  var height = y + 8;
  var root = svg('svg', { width: width, height: height, viewBox: '0 0 ' + width + ' ' + height, role: 'img', 'aria-label': 'timeline of ' + data.lanes.length + ' lanes from ' + localStamp(from) + ' to ' + localStamp(to) });
  var defs = svg('defs');
  var pattern = svg('pattern', { id: 'hatch', width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' });
  pattern.appendChild(svg('rect', { width: 6, height: 6, class: 'gap-bg' }));
  pattern.appendChild(svg('line', { x1: 0, y1: 0, x2: 0, y2: 6, class: 'gap-line' }));
  defs.appendChild(pattern);
  root.appendChild(defs);

  // Time axis: ticks in local time, the grid under the lanes.
  var tk = ticks(from, to, Math.max(2, Math.floor(plotW / 95)));
  var axis = svg('g', { class: 'axis' });
  var lastDay = '';
  tk.list.forEach(function (t) {
    var tx = x(t), day = localDate(t);
    axis.appendChild(svg('line', { x1: tx, x2: tx, y1: top - 6, y2: height - 8, class: 'grid' }));
    var label = localTime(t, tk.step < 6e4);
    if (day !== lastDay && (to - from > 864e5 || lastDay === '' && new Date(from).getDate() !== new Date(to).getDate())) label = day + ' ' + label;
    lastDay = day;
    var text = svg('text', { x: tx, y: top - 10, class: 'tick', 'text-anchor': 'middle', 'data-t': t }, label);
    axis.appendChild(text);
  });
  axis.appendChild(svg('text', { x: 4, y: top - 10, class: 'tick muted' }, 'local time (' + zone() + ')'));
  root.appendChild(axis);

  lanesY.forEach(function (row, i) {
    if (i % 2 === 1) root.appendChild(svg('rect', { x: 0, y: row.y, width: width, height: row.h, class: 'stripe' }));
  });
  // Gaps: the watch was not running.
  data.gaps.forEach(function (g) {
    var gx = x(g.from), gw = Math.max(2, x(g.to) - gx);
    var r = svg('rect', { x: gx, y: top, width: gw, height: y - top, class: 'gap', fill: 'url(#hatch)', 'data-from': g.from, 'data-to': g.to });
    r.appendChild(svg('title', null, 'not watching: ' + localStamp(g.from) + ' to ' + localStamp(g.to) + ' (' + fmtMs(g.to - g.from) + ')'));
    root.appendChild(r);
  });

  lanesY.forEach(function (row) {
    var lane = row.lane, g = svg('g', { class: 'lane' + (lane.check === '*' ? ' overall' : ''), 'data-check': lane.check });
    var title = laneTitle(lane);
    var label = svg('text', { x: 6, y: row.y + BAR_H + 1, class: 'lane-label' }, cut(lane.check === '*' ? lane.title : lane.check, 34));
    label.appendChild(svg('title', null, title + (lane.phase ? ' (phase ' + lane.phase + ')' : '')));
    g.appendChild(label);
    if (lane.check !== '*') g.appendChild(svg('text', { x: 6, y: row.y + BAR_H + 17, class: 'lane-sub' }, cut(lane.title, 38)));
    var by = row.y + 4;
    drawable(lane.spans, x).forEach(function (s) {
      var sx = x(s.from), sw = Math.max(1, x(s.to) - sx);
      if (s.state !== 'mixed') {
        g.appendChild(svg('rect', { x: sx, y: by, width: sw, height: BAR_H, class: 'span s-' + s.state, 'data-from': s.from, 'data-to': s.to }));
        return;
      }
      // A flapping stretch: its share of each state, stacked.
      var total = s.mix.met + s.mix.unmet + s.mix.error || 1, sy = by;
      ['unmet', 'error', 'met'].forEach(function (k) {
        var h = BAR_H * s.mix[k] / total;
        if (h > 0) g.appendChild(svg('rect', { x: sx, y: sy, width: sw, height: h, class: 'span s-' + k + ' mixed' }));
        sy += h;
      });
    });
    if (lane.check !== '*') drawLatency(g, lane, x, by + BAR_H + 4, from, to);
    // Outages closer than a few pixels are drawn as one cluster: a flapping check would otherwise
    // paint its lane solid. A cluster opens its first outage; the table lists every one.
    clusters(lane.outages, x).forEach(function (c) {
      var o = c.list[0], many = c.list.length > 1;
      var words = many ? c.list.length + ' outages from ' + localStamp(o.from) + ' to ' + localStamp(c.to) + ', the first one' : outageWords(o);
      var r = svg('rect', { x: c.x, y: row.y + 1, width: c.w, height: row.h - 2, rx: 2, class: 'outage' + (o.to === undefined ? ' open' : '') + (many ? ' cluster' : ''),
        tabindex: 0, role: 'button', 'data-id': o.id, 'data-from': o.from, 'data-to': c.to,
        'aria-label': 'outage of ' + title + ': ' + words + '. Show its message ladder.' });
      r.appendChild(svg('title', null, (many ? words : 'outage: ' + words) + (o.actual ? '\n' + o.actual : '')));
      g.appendChild(r);
    });
    root.appendChild(g);
  });

  // Operator marks: a line over every lane and the text above.
  placed.forEach(function (p) {
    var g = svg('g', { class: 'mark', 'data-at': p.mark.at });
    g.appendChild(svg('line', { x1: p.x, x2: p.x, y1: p.row < 0 ? top - 4 : p.row * MARK_ROW + 12, y2: height - 8 }));
    if (p.row >= 0) {
      var t = p.mark.text.length > 40 ? p.mark.text.slice(0, 39) + '…' : p.mark.text;
      g.appendChild(svg('text', { x: p.end ? p.x - 3 : p.x + 3, y: p.row * MARK_ROW + 11, class: 'mark-label', 'text-anchor': p.end ? 'end' : 'start' }, t));
    }
    g.appendChild(svg('title', null, localStamp(p.mark.at) + ' (' + p.mark.source + '): ' + p.mark.text));
    root.appendChild(g);
  });
  var cursor = svg('line', { class: 'cursor', x1: -10, x2: -10, y1: top, y2: height - 8 });
  root.appendChild(cursor);

  clear(chart).appendChild(root);
  geometry = { x0: LABEL_W, plotW: plotW, from: from, to: to, lanes: lanesY, cursor: cursor, svg: root, top: top, bottom: height - 8 };
}

/** Spans narrower than 2 px merged into mixed ones: thousands of hairlines would blend into mud. */
function drawable(spans, x) {
  var out = [], acc = null;
  var mixOf = function (s) { if (s.mix) return s.mix; var m = { met: 0, unmet: 0, error: 0 }; m[s.state] = s.to - s.from; return m; };
  spans.forEach(function (s) {
    var wide = x(s.to) - x(s.from) >= 2;
    if (acc && (wide || acc.to !== s.from)) { out.push(acc); acc = null; }
    if (wide) { out.push(s); return; }
    var m = mixOf(s);
    if (!acc) acc = { from: s.from, to: s.to, state: 'mixed', mix: { met: m.met, unmet: m.unmet, error: m.error } };
    else { acc.to = s.to; acc.mix.met += m.met; acc.mix.unmet += m.unmet; acc.mix.error += m.error; }
    if (x(acc.to) - x(acc.from) >= 2) { out.push(acc); acc = null; }
  });
  if (acc) out.push(acc);
  return out.map(function (s) {
    if (s.state !== 'mixed') return s;
    var k = ['met', 'unmet', 'error'].filter(function (k) { return s.mix[k] > 0; });
    return k.length === 1 ? { from: s.from, to: s.to, state: k[0] } : s;
  });
}

function clusters(outages, x) {
  var out = [];
  outages.forEach(function (o) {
    var end = o.to !== undefined ? o.to : o.from + o.ms;
    var ox = x(o.from), ex = Math.max(x(end), ox + 4);
    var last = out[out.length - 1];
    if (last && ox <= last.x + last.w + 2) {
      last.list.push(o);
      last.to = Math.max(last.to, end);
      last.w = Math.max(last.w, ex - last.x);
    } else out.push({ x: ox, w: ex - ox, to: end, list: [o] });
  });
  return out;
}

function drawLatency(g, lane, x, y0, from, to) {
  var pts = lane.latency.points;
  if (!pts.length) return;
  var max = 0;
  pts.forEach(function (p) { if (p[2] > max) max = p[2]; });
  max = niceMax(max);
  var y = function (v) { return y0 + LAT_H - (Math.min(v, max) / max) * LAT_H; };
  var w = lane.latency.width;
  // A line breaks where no result came for longer than a few rounds.
  var interval = data.settings && data.settings.intervalMs || w;
  var breakAfter = Math.max(2 * w, 3 * interval);
  var area = '', line = '', prev = null, run = [];
  var flush = function () {
    if (!run.length) return;
    area += 'M' + run.map(function (p) { return x(p[0] + w / 2).toFixed(1) + ',' + y(p[2]).toFixed(1); }).join('L');
    area += 'L' + run.slice().reverse().map(function (p) { return x(p[0] + w / 2).toFixed(1) + ',' + y(p[1]).toFixed(1); }).join('L') + 'Z';
    line += 'M' + run.map(function (p) { return x(p[0] + w / 2).toFixed(1) + ',' + y(p[3]).toFixed(1); }).join('L');
    if (run.length === 1) line += 'h1';
    run = [];
  };
  pts.forEach(function (p) {
    if (prev && p[0] - prev[0] > breakAfter) flush();
    run.push(p);
    prev = p;
  });
  flush();
  g.appendChild(svg('line', { x1: LABEL_W, x2: x(to), y1: y0 + LAT_H, y2: y0 + LAT_H, class: 'lat-base' }));
  g.appendChild(svg('path', { d: area, class: 'lat-area' }));
  g.appendChild(svg('path', { d: line, class: 'lat-line' }));
  g.appendChild(svg('text', { x: x(to) + 4, y: y0 + 8, class: 'lat-scale' }, fmtMs(max)));
  g.appendChild(svg('text', { x: x(to) + 4, y: y0 + LAT_H, class: 'lat-scale' }, '0'));
}
function niceMax(v) {
  if (!(v > 0)) return 1;
  var p = Math.pow(10, Math.floor(Math.log10(v)));
  var steps = [1, 2, 2.5, 5, 10];
  for (var i = 0; i < steps.length; i++) if (steps[i] * p >= v) return steps[i] * p;
  return 10 * p;
}

function find(list, t, start, end) {
  for (var i = 0; i < list.length; i++) if (start(list[i]) <= t && t <= end(list[i])) return list[i];
  return null;
}

/** The latency bucket at t, or the nearest within a round of it (results are sparser than buckets). */
function nearest(latency, t) {
  var w = latency.width, reach = Math.max(w, data.settings && data.settings.intervalMs || 0), best = null, bestD = Infinity;
  latency.points.forEach(function (q) {
    var d = t < q[0] ? q[0] - t : t > q[0] + w ? t - q[0] - w : 0;
    if (d <= reach && d < bestD) { best = q; bestD = d; }
  });
  return best;
}

function hover(ev) {
  if (!geometry) return;
  var box = geometry.svg.getBoundingClientRect();
  var px = ev.clientX - box.left, py = ev.clientY - box.top;
  if (px < geometry.x0 || px > geometry.x0 + geometry.plotW || py < geometry.top || py > geometry.bottom) return unhover();
  var t = geometry.from + (px - geometry.x0) / geometry.plotW * (geometry.to - geometry.from);
  var row = null;
  geometry.lanes.forEach(function (r) { if (py >= r.y && py < r.y + r.h) row = r; });
  geometry.cursor.setAttribute('x1', px);
  geometry.cursor.setAttribute('x2', px);
  var lines = [localStamp(t) + ' local', utcStamp(t)];
  var gap = find(data.gaps, t, function (g) { return g.from; }, function (g) { return g.to; });
  if (row) {
    var lane = row.lane;
    lines.push(laneTitle(lane));
    var span = find(lane.spans, t, function (s) { return s.from; }, function (s) { return s.to; });
    lines.push('state: ' + (gap ? 'not watching (gap)' : span ? STATE_WORD[span.state] : STATE_WORD.unknown));
    var p = nearest(lane.latency, t);
    if (p) lines.push('latency: ' + fmtMs(p[3]) + (p[4] > 1 ? ' average (' + fmtMs(p[1]) + ' to ' + fmtMs(p[2]) + ', ' + p[4] + ' results)' : ''));
    var o = find(lane.outages, t, function (q) { return q.from; }, function (q) { return q.to !== undefined ? q.to : q.from + q.ms; });
    if (o) lines.push('outage: ' + outageWords(o) + ' (click for its ladder)');
  } else if (gap) lines.push('not watching (gap)');
  clear(tip);
  lines.forEach(function (l, i) { tip.appendChild(el(i === 2 ? 'strong' : 'div', null, l)); });
  tip.hidden = false;
  var left = ev.clientX + 14, topPx = ev.clientY + 14;
  if (left + tip.offsetWidth > window.innerWidth - 8) left = ev.clientX - tip.offsetWidth - 14;
  if (topPx + tip.offsetHeight > window.innerHeight - 8) topPx = ev.clientY - tip.offsetHeight - 14;
  tip.style.left = Math.max(4, left) + window.scrollX + 'px';
  tip.style.top = Math.max(4, topPx) + window.scrollY + 'px';
}
function unhover() {
  tip.hidden = true;
  if (geometry) { geometry.cursor.setAttribute('x1', -10); geometry.cursor.setAttribute('x2', -10); }
}

function renderTables() {
  var tbody = clear(doc.querySelector('#availability tbody'));
  data.lanes.forEach(function (lane) {
    var tr = el('tr');
    var th = el('th', { scope: 'row' });
    th.appendChild(el('code', null, lane.check));
    th.appendChild(doc.createTextNode(' ' + lane.title));
    tr.appendChild(th);
    var now = lane.state !== 'unknown' ? STATE_WORD[lane.state] : lane.last ? 'last ' + lane.last + (data.stopped ? ', stopped' : '') : STATE_WORD.unknown;
    tr.appendChild(el('td', { class: lane.state === 'unknown' ? 'muted' : lane.state }, now));
    tr.appendChild(el('td', { class: 'num' }, pct(lane.availability)));
    tr.appendChild(el('td', { class: 'num' }, lane.stats.outages));
    tr.appendChild(el('td', { class: 'num' }, fmtMs(lane.stats.downMs)));
    tr.appendChild(el('td', { class: 'num' }, fmtMs(lane.stats.longestMs)));
    var r = lane.stats.results;
    tr.appendChild(el('td', { class: 'num' }, lane.check === '*' ? '' : r.met + ' / ' + r.unmet + ' / ' + r.error));
    var n = 0, sum = 0;
    lane.latency.points.forEach(function (p) { n += p[4]; sum += p[3] * p[4]; });
    tr.appendChild(el('td', { class: 'num' }, n ? fmtMs(sum / n) : ''));
    tbody.appendChild(tr);
  });
  var otb = clear(doc.querySelector('#outages tbody'));
  var all = [];
  data.lanes.forEach(function (lane) { lane.outages.forEach(function (o) { all.push({ o: o, lane: lane }); }); });
  all.sort(function (a, b) { return a.o.from - b.o.from || (a.lane.check === '*' ? -1 : 1); });
  all.forEach(function (e) {
    var o = e.o, tr = el('tr', { class: e.lane.check === '*' ? 'overall' : '' });
    var td = el('td');
    td.appendChild(el('code', null, e.lane.check));
    td.appendChild(doc.createTextNode(' ' + e.lane.title));
    tr.appendChild(td);
    tr.appendChild(el('td', { title: utcStamp(o.from) }, localStamp(o.from)));
    tr.appendChild(el('td', o.to !== undefined ? { title: utcStamp(o.to) } : { class: 'unmet' }, o.to !== undefined ? localStamp(o.to) : o.open === 'ongoing' ? 'ongoing' : o.open === 'stopped' ? 'watch stopped before it ended' : 'watch paused before it ended'));
    tr.appendChild(el('td', { class: 'num' }, fmtMs(o.ms)));
    var what = o.check === '*' && o.failing ? 'failing: ' + o.failing.join(', ') + (o.actual ? '; ' + o.actual : '') : o.actual || '';
    tr.appendChild(el('td', { class: 'actual' }, what));
    var act = el('td');
    act.appendChild(el('button', { type: 'button', class: 'show-ladder', 'data-id': o.id }, 'ladder'));
    tr.appendChild(act);
    otb.appendChild(tr);
  });
  var omitted = 0;
  data.lanes.forEach(function (l) { omitted += l.outagesOmitted; });
  doc.getElementById('outages-note').textContent = all.length === 0 ? 'No outages.' : omitted ? omitted + ' outages between the first and the latest ones are not listed (they are counted above).' : '';
  list('marks', data.marks, function (m) { return localStamp(m.at) + '  [' + m.source + ']  ' + m.text; }, data.omitted.marks);
  list('notices', data.notices, function (n) { return localStamp(n.at) + '  ' + n.text; }, data.omitted.notices);
  list('hooks', data.hooks, function (h) {
    return localStamp(h.at) + '  ' + h.check + ' -> ' + h.to + ': ' + (h.timedOut ? 'timed out' : h.signal ? 'killed by ' + h.signal : 'exit ' + h.exitCode) + ' in ' + fmtMs(h.durationMs) + (h.output ? '  ' + h.output : '');
  }, data.omitted.hooks);
  list('facts-changes', data.facts, function (f) {
    return localStamp(f.at) + '  ' + [f.edge, f.tlsVersion, f.certificate ? f.certificate.daysLeft + ' days left on ' + f.certificate.subject : '', f.error].filter(Boolean).join(', ');
  }, data.omitted.facts);
}
function list(id, items, text, omitted) {
  var ul = clear(doc.querySelector('#' + id + ' ul'));
  items.forEach(function (it) { ul.appendChild(el('li', null, text(it))); });
  if (omitted) ul.appendChild(el('li', { class: 'muted' }, omitted + ' more between the first and the latest are left out'));
  doc.querySelector('#' + id + ' .count').textContent = String(items.length + (omitted || 0));
}

/** The outage's facts in the panel; the live page redraws them at every poll (an ongoing outage grows). */
function outageFacts(id) {
  var found = byId[id], o = found.outage, lane = found.lane;
  doc.getElementById('outage-title').textContent = 'Outage of ' + laneTitle(lane);
  var dl = clear(doc.getElementById('outage-facts'));
  // The overall outage is told by its first failing check's.
  var cause = o.check === '*' && o.evidence && byId[o.evidence] ? byId[o.evidence].outage : o;
  var rows = [
    ['from', localStamp(o.from) + ' (' + utcStamp(o.from) + ')'],
    ['to', o.to !== undefined ? localStamp(o.to) + ' (' + utcStamp(o.to) + ')' + (o.recoveredTo && o.recoveredTo !== 'met' ? ', then ' + STATE_WORD[o.recoveredTo] : '') : o.open === 'ongoing' ? 'ongoing' : 'unknown: the watch ' + (o.open === 'gap' ? 'paused' : 'stopped') + ' first'],
    ['length', fmtMs(o.ms) + (o.to === undefined ? ' so far' : '')],
    ['failing', o.failing ? o.failing.join(', ') : ''],
    ['first failing', o.first || ''],
    ['actual', cause.actual || ''],
    ['diagnosis', cause.diagnosis || ''],
    ['ladder of', cause !== o ? laneTitle(byId[o.evidence].lane) + ', from ' + localStamp(cause.from) : ''],
  ];
  rows.forEach(function (r) {
    if (!r[1]) return;
    var tr = el('tr');
    tr.appendChild(el('th', null, r[0]));
    tr.appendChild(el('td', null, r[1]));
    dl.appendChild(tr);
  });
}

function showOutage(id) {
  var found = byId[id];
  if (!found) return;
  var o = found.outage;
  shownOutage = id;
  panel.hidden = false;
  outageFacts(id);
  var box = clear(doc.getElementById('outage-ladder'));
  var key = o.evidence;
  if (!key) box.appendChild(el('p', { class: 'muted' }, 'No evidence was kept for this outage.'));
  else if (!live) {
    if (ladders[key] !== undefined) box.innerHTML = ladders[key];
    else box.appendChild(el('p', { class: 'muted' }, 'Its ladder is not in this file.'));
  } else {
    box.appendChild(el('p', { class: 'muted' }, 'loading the ladder...'));
    fetch(live.evidenceUrl + (live.evidenceUrl.indexOf('?') < 0 ? '?' : '&') + 'id=' + encodeURIComponent(key), { cache: 'no-store' })
      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.text(); })
      .then(function (html) { if (shownOutage === id) box.innerHTML = html; })
      .catch(function (e) { if (shownOutage === id) { clear(box).appendChild(el('p', { class: 'unmet' }, 'could not load the ladder: ' + e.message)); } });
  }
  doc.getElementById('outage-title').focus();
  panel.scrollIntoView({ block: 'nearest' });
}

doc.addEventListener('click', function (e) {
  var t = e.target.closest && e.target.closest('[data-id]');
  if (t && (t.classList.contains('outage') || t.classList.contains('show-ladder'))) showOutage(t.getAttribute('data-id'));
});
doc.addEventListener('keydown', function (e) {
  var t = e.target;
  if ((e.key === 'Enter' || e.key === ' ') && t.classList && t.classList.contains('outage')) { e.preventDefault(); showOutage(t.getAttribute('data-id')); }
  if (e.key === 'Escape' && !panel.hidden) { panel.hidden = true; shownOutage = null; }
});
doc.getElementById('outage-close').addEventListener('click', function () { panel.hidden = true; shownOutage = null; });
chart.addEventListener('mousemove', hover);
chart.addEventListener('mouseleave', unhover);
var resizing = null;
window.addEventListener('resize', function () { clearTimeout(resizing); resizing = setTimeout(renderChart, 100); });

if (live) {
  var status = doc.getElementById('live-status');
  var pollMs = live.pollMs || 2000;
  var timer = null;
  var poll = function () {
    clearTimeout(timer);
    fetch(live.dataUrl, { cache: 'no-store' })
      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
      .then(function (next) {
        data = next;
        render();
        status.className = 'live';
        status.textContent = 'live, updated ' + localTime(Date.now());
      })
      .catch(function (e) {
        status.className = 'live failed';
        status.textContent = 'live, last update failed at ' + localTime(Date.now()) + ' (' + e.message + '); retrying';
      })
      .then(function () { timer = setTimeout(poll, pollMs); });
  };
  var form = doc.getElementById('mark-form');
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var input = form.querySelector('input'), said = doc.getElementById('mark-status');
    var text = input.value.trim();
    if (!text) return;
    said.textContent = 'adding...';
    fetch(live.markUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: text }) })
      .then(function (r) {
        if (!r.ok) return r.text().then(function (t) { throw new Error(t || 'HTTP ' + r.status); });
        input.value = '';
        said.textContent = 'mark added at ' + localTime(Date.now());
        poll();
      })
      .catch(function (err) { said.textContent = 'could not add the mark: ' + err.message; });
  });
  status.textContent = 'live, updated ' + localTime(Date.now());
  timer = setTimeout(poll, pollMs);
}
render();
})();
`;
