// okvqa report page. Plain browser script, inlined into the report. Every text from the data goes through
// textContent / setAttribute (never innerHTML), so data can never become markup.
(function () {
  'use strict';
  var SVGNS = 'http://www.w3.org/2000/svg';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var app = document.getElementById('app');
  var Q = data.questions;
  Q.forEach(function (q, i) { q._i = i; });
  var nodeInfo = {};
  data.nodes.forEach(function (n) { nodeInfo[n.name] = n; });
  var cmp = !!data.compare;

  // ---------- tiny DOM helpers ----------
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (attrs[k] === undefined || attrs[k] === null || attrs[k] === false) continue;
      if (k === 'text') e.textContent = String(attrs[k]);
      else if (k === 'cls') e.className = attrs[k];
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, String(attrs[k]));
    }
    append(e, children);
    return e;
  }
  function svg(tag, attrs, children) {
    var e = document.createElementNS(SVGNS, tag);
    if (attrs) for (var k in attrs) {
      if (attrs[k] === undefined || attrs[k] === null) continue;
      if (k === 'text') e.textContent = String(attrs[k]);
      else e.setAttribute(k, String(attrs[k]));
    }
    append(e, children);
    return e;
  }
  function append(parent, children) {
    if (children === undefined || children === null) return;
    if (!Array.isArray(children)) children = [children];
    children.forEach(function (c) {
      if (c === undefined || c === null || c === false) return;
      parent.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    });
  }
  function fmt(x, d) {
    if (x === undefined || x === null || typeof x !== 'number' || !isFinite(x)) return '–';
    return x.toFixed(d === undefined ? 2 : d);
  }
  function pct(acc) { return acc === undefined || acc === null ? '–' : (acc * 100).toFixed(0); }
  function ms(x) { return x >= 1000 ? (x / 1000).toFixed(2) + ' s' : fmt(x, 1) + ' ms'; }
  function safeImage(src) { return typeof src === 'string' && /^data:image\/(webp|png|jpeg|gif);base64,[A-Za-z0-9+\/=]+$/.test(src) ? src : null; }
  function str(v) { return typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v); }

  // ---------- header ----------
  function runSummary(r, label) {
    var off = r.official || {};
    var items = [
      ['pipeline', r.pipeline || '–'], ['dataset', r.dataset || '–'], ['status', r.status || '–'],
      ['questions', r.answered + (r.questions && r.questions !== r.answered ? ' of ' + r.questions : '')],
      ['failed', r.failed],
      ['accuracy', r.accuracy === null ? '–' : fmt(r.accuracy)],
    ];
    if (typeof off.overall === 'number') items.push(['official (metrics.json)', fmt(off.overall)]);
    if (typeof off.directAnswer === 'number') items.push(['DA (official)', fmt(off.directAnswer)]);
    if (typeof off.multipleChoice === 'number') items.push(['MC (official)', fmt(off.multipleChoice)]);
    items.push(['LLM calls', r.usage.calls + ' (+' + r.usage.cachedCalls + ' cached)']);
    items.push(['tokens', r.usage.promptTokens + ' prompt + ' + r.usage.completionTokens + ' completion']);
    items.push(['question time (sum)', ms(r.totalMs)]);
    if (r.commit) items.push(['commit', String(r.commit).slice(0, 12)]);
    return el('div', { cls: 'summary' }, [
      el('h3', { text: label }), el('div', { cls: 'path', text: r.dir }),
      el('dl', null, items.map(function (it) { return el('div', null, [el('dt', { text: it[0] }), el('dd', { text: String(it[1]) })]); })),
    ]);
  }

  // ---------- charts (inline SVG) ----------
  function barChart(rows, opts) {
    // rows: [{label, value, value2?, note}], value in [0, max]
    var max = opts.max || Math.max.apply(null, rows.map(function (r) { return Math.max(r.value || 0, r.value2 || 0); }).concat([1e-9]));
    var labelW = 230, barW = 300, rowH = cmp && opts.two ? 30 : 20, W = labelW + barW + 190;
    var H = rows.length * rowH + 6;
    var s = svg('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': opts.title, 'class': 'chart' });
    rows.forEach(function (r, i) {
      var y = i * rowH + 3;
      var t = svg('text', { x: labelW - 6, y: y + 13, 'text-anchor': 'end', 'class': 'lbl', text: r.label.length > 34 ? r.label.slice(0, 33) + '…' : r.label });
      append(t, svg('title', { text: r.label }));
      s.appendChild(t);
      var w1 = Math.max(0, (r.value || 0) / max * barW);
      s.appendChild(svg('rect', { x: labelW, y: y + 2, width: w1, height: 12, 'class': 'bar a' }));
      var txt = opts.fmt(r.value) + (r.note ? '  ' + r.note : '');
      if (opts.two && r.value2 !== undefined) {
        var w2 = Math.max(0, (r.value2 || 0) / max * barW);
        s.appendChild(svg('rect', { x: labelW, y: y + 15, width: w2, height: 10, 'class': 'bar b' }));
        txt = opts.fmt(r.value) + ' → ' + opts.fmt(r.value2) + (r.note ? '  ' + r.note : '');
      }
      s.appendChild(svg('text', { x: labelW + barW + 6, y: y + 13, 'class': 'val', text: txt }));
    });
    return s;
  }

  function categorySection() {
    var groups = {};
    data.categories.forEach(function (c) { (groups[c.group] = groups[c.group] || []).push(c); });
    var box = el('section', { id: 'categories' }, [el('h2', { text: 'Accuracy by category' })]);
    if (cmp) box.appendChild(el('p', { cls: 'legend' }, [el('span', { cls: 'sw a' }), ' this run  ', el('span', { cls: 'sw b' }), ' comparison run']));
    Object.keys(groups).forEach(function (g) {
      var rows = groups[g].slice(0, 40).map(function (c) {
        var note = 'n=' + c.n;
        if (cmp && c.bAcc !== null && c.bAcc !== undefined && c.acc !== null) {
          var d = c.bAcc - c.acc;
          note += '  Δ ' + (d >= 0 ? '+' : '') + d.toFixed(2);
        }
        return { label: c.name, value: c.acc === null ? 0 : c.acc, value2: cmp ? (c.bAcc === null ? 0 : c.bAcc) : undefined, note: note };
      });
      var more = groups[g].length > 40 ? el('p', { cls: 'muted', text: (groups[g].length - 40) + ' more ' + g + ' categories not drawn' }) : null;
      box.appendChild(el('div', { cls: 'chartbox' }, [el('h4', { text: g }), barChart(rows, { max: 100, fmt: function (v) { return fmt(v); }, two: cmp, title: 'accuracy by ' + g }), more]));
    });
    return box;
  }

  function stageSection() {
    var box = el('section', { id: 'stages' }, [el('h2', { text: 'Time and cost per stage' })]);
    var u = data.run.usage;
    box.appendChild(el('p', { text: 'LLM: ' + u.calls + ' calls made, ' + u.cachedCalls + ' answered from the cache; ' + u.promptTokens + ' prompt + ' + u.completionTokens + ' completion tokens (' + (data.run.answered ? ((u.promptTokens + u.completionTokens) / data.run.answered).toFixed(1) : '0') + ' per question).' }));
    var cache = data.run.cache;
    if (cache && typeof cache === 'object') box.appendChild(el('p', { cls: 'muted', text: 'cache ' + (cache.mode || '') + ': ' + (cache.hits || 0) + ' hits, ' + (cache.misses || 0) + ' misses, ' + (cache.writes || 0) + ' writes (this invocation)' }));
    box.appendChild(barChart(data.stages.map(function (s) { return { label: s.node + ' (' + s.stage + ')', value: s.totalMs / 1000, note: s.cached + '/' + s.runs + ' cached' }; }), { fmt: function (v) { return fmt(v, 2) + ' s'; }, title: 'seconds per stage' }));
    var t = el('table', { cls: 'grid' }, [el('thead', null, el('tr', null, ['node', 'stage', 'runs', 'cache hits', 'errors', 'skipped', 'total', 'mean', 'median', 'max', 'LLM calls (+cached)', 'tokens'].map(function (h) { return el('th', { text: h }); })))]);
    var tb = el('tbody');
    data.stages.forEach(function (s) {
      var l = s.llm;
      tb.appendChild(el('tr', null, [s.node, s.stage, s.runs, s.cached, s.errors, s.skipped, ms(s.totalMs), ms(s.meanMs), ms(s.p50Ms), ms(s.maxMs),
        l ? l.calls + ' (+' + l.cachedCalls + ')' : '–', l ? l.promptTokens + ' + ' + l.completionTokens : '–'].map(function (v) { return el('td', { text: String(v) }); })));
    });
    t.appendChild(tb);
    box.appendChild(t);
    return box;
  }

  function compareSection() {
    var f = data.compare.flips;
    var box = el('section', { id: 'compare' }, [el('h2', { text: 'Comparison' })]);
    box.appendChild(el('p', { text: f.common + ' questions in both runs; answer changed on ' + f.changedAnswer + '; ' + f.toRight + ' flipped wrong → right, ' + f.toWrong + ' right → wrong (right = accuracy above 0).' }));
    var names = Object.keys(f.nodeDiffs).sort(function (a, b) { return f.nodeDiffs[b] - f.nodeDiffs[a]; });
    if (names.length) {
      box.appendChild(el('h4', { text: 'Nodes whose outputs differ (questions)' }));
      box.appendChild(barChart(names.map(function (n) { return { label: n, value: f.nodeDiffs[n] }; }), { fmt: function (v) { return String(v); }, title: 'nodes that differ' }));
    } else box.appendChild(el('p', { text: 'No node output differs.' }));
    return box;
  }

  // ---------- questions table (virtual) ----------
  var columns = [
    { key: 'id', label: 'id', get: function (q) { return q.id; } },
    { key: 'q', label: 'question', get: function (q) { return q.q || ''; } },
    { key: 'pred', label: 'prediction', get: function (q) { return q.ok ? (q.pred || '') : '⚠ ' + (q.err || 'failed'); } },
    { key: 'acc', label: 'acc', num: true, get: function (q) { return q.acc; }, show: pct },
    { key: 'ps', label: 'score', num: true, get: function (q) { return q.ps; }, show: function (v) { return fmt(v, 3); } },
    { key: 'ms', label: 'time', num: true, get: function (q) { return q.ms; }, show: function (v) { return ms(v); } },
    { key: 'calls', label: 'LLM', num: true, get: function (q) { return q.calls + q.cachedCalls; } },
    { key: 'hits', label: 'hits', num: true, get: function (q) { return q.hits; } },
  ];
  if (cmp) {
    columns.push({ key: 'bpred', label: 'B prediction', get: function (q) { return q.b ? (q.b.ok ? q.b.pred || '' : '⚠ failed') : ''; } });
    columns.push({ key: 'dacc', label: 'Δacc', num: true, get: function (q) { return q.b && q.b.acc !== undefined && q.acc !== undefined ? q.b.acc - q.acc : undefined; }, show: function (v) { return v === undefined ? '–' : (v > 0 ? '+' : '') + (v * 100).toFixed(0); } });
    columns.push({ key: 'diff', label: 'nodes differ', num: true, get: function (q) { return q.b ? q.b.diff.length : undefined; } });
  }
  var state = { view: Q.slice(), sort: null, dir: 1, selected: null };
  var ROW = 28;

  function filterBar() {
    var at = {}, qt = {};
    Q.forEach(function (q) { if (q.at) at[q.at] = 1; if (q.qt) qt[q.qt] = 1; });
    function select(id, label, options) {
      return el('label', null, [label + ' ', el('select', { id: id, onchange: applyFilters }, options.map(function (o) { return el('option', { value: o[0], text: o[1] }); }))]);
    }
    var parts = [
      el('input', { id: 'f-text', type: 'search', placeholder: 'search question, prediction, answers, id…', oninput: applyFilters }),
      select('f-outcome', 'outcome', [['', 'all'], ['right', 'right (acc > 0)'], ['full', 'acc = 100'], ['wrong', 'wrong (acc = 0)'], ['failed', 'failed'], ['noanswers', 'no answers known']]),
      select('f-know', 'knowledge', [['', 'all'], ['with', 'with retrieved knowledge'], ['without', 'without']]),
    ];
    if (Object.keys(at).length) parts.push(select('f-at', 'answer type', [['', 'all']].concat(Object.keys(at).sort().map(function (k) { return [k, k]; }))));
    if (Object.keys(qt).length) parts.push(select('f-qt', 'question type', [['', 'all']].concat(Object.keys(qt).sort().map(function (k) { return [k, k]; }))));
    if (cmp) {
      parts.push(select('f-cmp', 'comparison', [['', 'all'], ['flip', 'flipped right ↔ wrong'], ['toright', 'wrong → right'], ['towrong', 'right → wrong'], ['changed', 'answer changed'], ['better', 'accuracy up'], ['worse', 'accuracy down'], ['nodediff', 'some node differs']]));
      var diffNames = Object.keys(data.compare.flips.nodeDiffs);
      if (diffNames.length) parts.push(select('f-node', 'node differs', [['', 'any']].concat(diffNames.map(function (k) { return [k, k]; }))));
    }
    parts.push(el('span', { id: 'f-count', cls: 'count' }));
    return el('div', { cls: 'filters' }, parts);
  }
  function val(id) { var e = document.getElementById(id); return e ? e.value : ''; }
  function applyFilters() {
    var text = val('f-text').trim().toLowerCase(), outcome = val('f-outcome'), know = val('f-know'), at = val('f-at'), qt = val('f-qt'), c = val('f-cmp'), node = val('f-node');
    state.view = Q.filter(function (q) {
      if (outcome === 'right' && !(q.acc > 0)) return false;
      if (outcome === 'full' && q.acc !== 1) return false;
      if (outcome === 'wrong' && q.acc !== 0) return false;
      if (outcome === 'failed' && q.ok) return false;
      if (outcome === 'noanswers' && q.acc !== undefined) return false;
      if (know === 'with' && !q.kn) return false;
      if (know === 'without' && q.kn) return false;
      if (at && q.at !== at) return false;
      if (qt && q.qt !== qt) return false;
      if (c || node) {
        if (!q.b) return false;
        var a = q.acc, b = q.b.acc;
        if (c === 'flip' && !(a !== undefined && b !== undefined && ((a === 0) !== (b === 0)))) return false;
        if (c === 'toright' && !(a === 0 && b > 0)) return false;
        if (c === 'towrong' && !(a > 0 && b === 0)) return false;
        if (c === 'changed' && (q.pred || '') === (q.b.pred || '')) return false;
        if (c === 'better' && !(b > a)) return false;
        if (c === 'worse' && !(b < a)) return false;
        if (c === 'nodediff' && !q.b.diff.length) return false;
        if (node && q.b.diff.indexOf(node) < 0) return false;
      }
      if (text) {
        var hay = (q.id + '\n' + (q.q || '') + '\n' + (q.pred || '') + '\n' + (q.answers || []).join('\n') + '\n' + (q.b && q.b.pred || '')).toLowerCase();
        if (hay.indexOf(text) < 0) return false;
      }
      return true;
    });
    sortView();
    renderTable();
  }
  function sortView() {
    if (!state.sort) return;
    var col = columns.filter(function (c) { return c.key === state.sort; })[0];
    var dir = state.dir;
    state.view.sort(function (a, b) {
      var x = col.get(a), y = col.get(b);
      if (x === undefined || x === null) return (y === undefined || y === null) ? 0 : 1;
      if (y === undefined || y === null) return -1;
      if (col.num) return (x - y) * dir;
      return String(x).localeCompare(String(y), undefined, { numeric: true }) * dir;
    });
  }
  var viewport, spacer, rowsBox, header;
  function tableSection() {
    header = el('div', { cls: 'row head', role: 'row' }, columns.map(function (c) {
      return el('div', { cls: 'cell c-' + c.key + (c.num ? ' num' : ''), role: 'columnheader', 'data-key': c.key, text: c.label, onclick: function () {
        if (state.sort === c.key) state.dir = -state.dir; else { state.sort = c.key; state.dir = c.num ? -1 : 1; }
        sortView();
        renderHeader();
        renderTable();
      } });
    }));
    spacer = el('div', { cls: 'spacer' });
    rowsBox = el('div', { cls: 'rows', role: 'rowgroup' });
    viewport = el('div', { cls: 'viewport', id: 'qtable', role: 'table' }, [spacer, rowsBox]);
    viewport.addEventListener('scroll', function () { window.requestAnimationFrame(renderRows); });
    return el('section', { id: 'questions' }, [el('h2', { text: 'Questions' }), filterBar(), el('div', { cls: 'table ' + (cmp ? 'cmp' : '') }, [header, viewport]), el('div', { id: 'detail' })]);
  }
  function renderHeader() {
    Array.prototype.forEach.call(header.children, function (h) {
      var k = h.getAttribute('data-key');
      var col = columns.filter(function (c) { return c.key === k; })[0];
      h.textContent = col.label + (state.sort === k ? (state.dir > 0 ? ' ▲' : ' ▼') : '');
    });
  }
  function renderTable() {
    document.getElementById('f-count').textContent = state.view.length + ' of ' + Q.length + ' questions';
    spacer.style.height = state.view.length * ROW + 'px';
    renderRows();
  }
  function renderRows() {
    var top = viewport.scrollTop, h = viewport.clientHeight || 560;
    var first = Math.max(0, Math.floor(top / ROW) - 5), last = Math.min(state.view.length, Math.ceil((top + h) / ROW) + 5);
    rowsBox.style.transform = 'translateY(' + first * ROW + 'px)';
    rowsBox.textContent = '';
    for (var i = first; i < last; i++) rowsBox.appendChild(rowFor(state.view[i]));
  }
  function rowFor(q) {
    var cls = 'row' + (q.acc === undefined ? '' : q.acc > 0 ? ' right' : ' wrong') + (q.ok ? '' : ' failed') + (state.selected === q ? ' sel' : '');
    var r = el('div', { cls: cls, role: 'row', 'data-qid': q.id, onclick: function () { select(q); } }, columns.map(function (c) {
      var v = c.get(q);
      var t = c.show ? c.show(v) : v === undefined || v === null ? '' : String(v);
      return el('div', { cls: 'cell c-' + c.key + (c.num ? ' num' : ''), title: typeof v === 'string' ? v : undefined, text: t });
    }));
    return r;
  }
  function select(q) {
    state.selected = q;
    renderRows();
    var d = document.getElementById('detail');
    d.textContent = '';
    d.appendChild(el('p', { cls: 'muted', text: 'Loading question ' + q.id + '…' }));
    return detailsOf(q).then(function (x) {
      if (state.selected !== q) return;
      d.textContent = '';
      d.appendChild(details(q, x));
      d.scrollIntoView({ block: 'nearest' });
    }, function (err) {
      d.textContent = '';
      d.appendChild(el('p', { cls: 'err', text: 'Cannot read this question\u2019s details: ' + err }));
    });
  }

  // Node outputs live in gzip chunks (base64, one element each), inflated with the browser's DecompressionStream when
  // first needed; thumbnails are parsed on the first question opened.
  var chunkCache = {};
  // The blobs follow this script in the file: wait until the browser has read them.
  var domReady = new Promise(function (res) { if (document.readyState !== 'loading') res(); else document.addEventListener('DOMContentLoaded', function () { res(); }); });
  function images() {
    if (!data.images) data.images = JSON.parse(document.getElementById('report-images').textContent);
    return data.images;
  }
  function inflate(b64) {
    var bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'))).text();
  }
  function detailsOf(q) {
    var size = data.detailChunk, k = Math.floor(q._i / size);
    if (!chunkCache[k]) {
      chunkCache[k] = domReady.then(function () {
        var elt = document.getElementById('report-details-' + k);
        return elt ? inflate(JSON.parse(elt.textContent)).then(JSON.parse) : [];
      });
    }
    return chunkCache[k].then(function (arr) { return arr[q._i % size] || { nodes: {} }; });
  }

  // ---------- question details (built on demand) ----------
  function norm(s) { return String(s).toLowerCase().replace(/[^a-z0-9 ]/g, '').replace(/\s+/g, ' ').trim(); }
  function answerBlock(q) {
    var box = el('div', { cls: 'answers' });
    var p = norm(q.pred || '');
    box.appendChild(el('div', { cls: 'pred' }, [el('span', { cls: 'k', text: 'prediction' }), el('b', { text: q.ok ? (q.pred === '' ? '(empty)' : q.pred || '–') : 'failed' }),
      q.ps !== undefined ? el('span', { cls: 'muted', text: ' score ' + fmt(q.ps, 4) }) : null,
      q.acc !== undefined ? el('span', { cls: 'acc ' + (q.acc > 0 ? 'right' : 'wrong'), text: ' accuracy ' + pct(q.acc) }) : null,
      q.mc !== undefined ? el('span', { text: ' · multiple choice: ' + q.mc }) : null]));
    if (q.err) box.appendChild(el('div', { cls: 'err', text: q.err }));
    if (q.answers) {
      box.appendChild(el('div', { cls: 'gt' }, [el('span', { cls: 'k', text: 'answers' })].concat(q.answers.map(function (a) {
        return el('span', { cls: 'chip' + (norm(a) === p ? ' match' : ''), text: a });
      }))));
    }
    if (q.choices) box.appendChild(el('div', { cls: 'gt' }, [el('span', { cls: 'k', text: 'choices' })].concat(q.choices.map(function (c, i) { return el('span', { cls: 'chip' + (i === q.cc ? ' match' : ''), text: c }); }))));
    return box;
  }

  function imageBlock(q, nodes) {
    var img = q.img !== undefined && images()[String(q.img)];
    var src = img && safeImage(img.src);
    var regionNodes = data.nodes.filter(function (n) { return (n.kind === 'regions' || looksLike(nodes[n.name] && nodes[n.name].out, 'box')) && nodes[n.name] && Array.isArray(nodes[n.name].out); });
    if (!src) return regionNodes.length ? el('p', { cls: 'muted', text: 'No image in the report (the run\u2019s data names no images folder, or the image could not be read).' }) : null;
    var W = img.w || 1, H = img.h || 1;
    var box = el('div', { cls: 'imgbox' });
    var pic = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, 'class': 'pic', preserveAspectRatio: 'xMidYMid meet' });
    var im = svg('image', { width: W, height: H, preserveAspectRatio: 'none' });
    im.setAttribute('href', src);
    pic.appendChild(im);
    // Tag labels by region, when a tags node points at regions.
    var tagsByRegion = {};
    data.nodes.forEach(function (n) {
      var out = nodes[n.name] && nodes[n.name].out;
      if (n.kind === 'tags' && Array.isArray(out)) out.forEach(function (t) { if (t && typeof t.region === 'number') (tagsByRegion[t.region] = tagsByRegion[t.region] || []).push(t.label); });
    });
    var toggles = el('div', { cls: 'toggles' });
    regionNodes.forEach(function (n, ni) {
      var g = svg('g', { 'class': 'regions r' + (ni % 4) });
      nodes[n.name].out.forEach(function (r, i) {
        if (!r || !r.box) return;
        var b = r.box, x = +b.xmin, y = +b.ymin, w = +b.xmax - x, h = +b.ymax - y;
        if (!isFinite(x + y + w + h)) return;
        if (r.source === 'image' && w >= W - 1 && h >= H - 1) return; // the whole image: nothing to draw
        var label = r.label || (tagsByRegion[i] ? tagsByRegion[i].slice(0, 2).join(', ') : '');
        if (r.score !== undefined && r.label) label += ' ' + fmt(r.score, 2);
        var rect = svg('rect', { x: x, y: y, width: w, height: h, 'class': 'box' });
        append(rect, svg('title', { text: n.name + ' #' + i + (label ? ': ' + label : '') }));
        g.appendChild(rect);
        if (label) g.appendChild(svg('text', { x: x + 2, y: y + Math.max(10, H / 30), 'class': 'boxlbl', 'font-size': Math.max(8, H / 30), text: label }));
      });
      pic.appendChild(g);
      var cb = el('input', { type: 'checkbox', checked: 'checked', onchange: function () { g.style.display = cb.checked ? '' : 'none'; } });
      toggles.appendChild(el('label', null, [cb, ' ' + n.name + ' (' + nodes[n.name].out.length + ')']));
    });
    box.appendChild(pic);
    if (regionNodes.length) box.appendChild(toggles);
    box.appendChild(el('div', { cls: 'muted', text: 'image ' + q.img + ' · ' + W + '×' + H + ' (thumbnail)' }));
    return box;
  }

  function looksLike(out, key) { return Array.isArray(out) && out.length > 0 && out[0] && typeof out[0] === 'object' && key in out[0]; }

  function kindOf(name, out) {
    var k = nodeInfo[name] && nodeInfo[name].kind;
    if (k) return k;
    if (looksLike(out, 'box')) return 'regions';
    if (looksLike(out, 'prompt')) return 'prompts';
    if (looksLike(out, 'answer') && looksLike(out, 'score')) return 'candidates';
    if (looksLike(out, 'text') && looksLike(out, 'score')) return 'passages';
    if (looksLike(out, 'text')) return 'captions';
    if (out && typeof out === 'object' && !Array.isArray(out) && 'answer' in out) return 'answer';
    return 'json';
  }

  function attributionFor(q, nodes) {
    // The output node's `attribution` is aligned with the passages it read: the feeding nodes' outputs, concatenated.
    var outNode = data.outputNode && nodes[data.outputNode];
    var att = outNode && outNode.out && outNode.out.attribution;
    if (!Array.isArray(att) || !data.passageNodes.length) return {};
    var res = {}, offset = 0;
    data.passageNodes.forEach(function (n) {
      var t = nodes[n], out = t && t.out;
      res[n] = [];
      if (!Array.isArray(out)) return;
      var shown = out.filter(function (x) { return typeof x !== 'string'; });
      shown.forEach(function (_, j) { res[n].push(att[offset + j]); });
      offset += typeof t.n === 'number' ? t.n : shown.length; // the full list, when the report shows only its start
    });
    return res;
  }

  function table(headers, rows) {
    return el('table', { cls: 'grid' }, [el('thead', null, el('tr', null, headers.map(function (h) { return el('th', { text: h }); }))), el('tbody', null, rows.map(function (r) { return el('tr', null, r.map(function (c) { return el('td', null, typeof c === 'object' && c !== null ? c : String(c === undefined || c === null ? '' : c)); })); }))]);
  }
  function meter(v, max) {
    var m = el('span', { cls: 'meter' });
    m.appendChild(el('span', { style: 'width:' + Math.max(0, Math.min(100, (v / (max || 1)) * 100)).toFixed(1) + '%' }));
    return el('span', null, [m, ' ' + fmt(v, 3)]);
  }

  function artifact(name, out, kind, att) {
    if (out === undefined) return null;
    // Lists cut for the report end with a note (a string) saying how many items are only in trace.jsonl.
    if (Array.isArray(out) && kind !== 'json' && out.some(function (x) { return typeof x === 'string'; })) {
      var notes = out.filter(function (x) { return typeof x === 'string'; });
      return el('div', null, [artifact(name, out.filter(function (x) { return typeof x !== 'string'; }), kind, att)].concat(notes.map(function (n) { return el('p', { cls: 'muted', text: n }); })));
    }
    if (kind === 'sample' || kind === 'embedding') return el('p', { cls: 'muted', text: typeof out === 'string' ? out : kind });
    if (!Array.isArray(out) && kind !== 'answer') kind = 'json';
    switch (kind) {
      case 'captions':
        return el('ul', { cls: 'plain' }, out.map(function (c) { return el('li', null, [el('q', { text: str(c.text) }), c.conf !== undefined ? el('span', { cls: 'muted', text: ' ' + fmt(c.conf, 3) }) : null, c.source ? el('span', { cls: 'muted', text: ' · ' + c.source }) : null]); }));
      case 'tags':
        return el('div', null, out.map(function (t) { return el('span', { cls: 'chip', title: t.region !== undefined ? 'region ' + t.region : undefined, text: str(t.label) + ' ' + fmt(t.conf, 2) }); }));
      case 'regions':
        return table(['#', 'source', 'label', 'score', 'box'], out.map(function (r, i) { var b = r.box || {}; return [i, r.source || '', r.label || '', r.score === undefined ? '' : fmt(r.score, 3), [b.xmin, b.ymin, b.xmax, b.ymax].map(function (x) { return fmt(+x, 0); }).join(', ')]; }));
      case 'passages': {
        var maxA = att ? Math.max.apply(null, att.filter(function (x) { return typeof x === 'number'; }).concat([1e-9])) : 0;
        var order = out.map(function (_, i) { return i; });
        return table(att ? ['#', 'passage', 'score', 'source', 'attribution'] : ['#', 'passage', 'score', 'source'], order.map(function (i) {
          var p = out[i];
          var row = [i, str(p.text), fmt(p.score, 3), (p.source || '') + (p.region !== undefined ? ' · region ' + p.region : '')];
          if (att) row.push(typeof att[i] === 'number' ? meter(att[i], maxA) : '–');
          return row;
        }));
      }
      case 'candidates':
        return table(['answer', 'score', 'logprob', 'rationale / evidence', 'source'], out.map(function (c) { return [str(c.answer), fmt(c.score, 4), c.logprob === undefined || c.logprob === null ? '' : fmt(c.logprob, 3), str(c.evidence), str(c.source)]; }));
      case 'prompts':
        return el('div', null, out.map(function (p, i) {
          return el('details', { cls: 'prompt' }, [
            el('summary', { text: 'prompt ' + (p.index !== undefined ? p.index : i) + ' → ' + JSON.stringify(str(p.answer)) + (p.logprob !== undefined && p.logprob !== null ? ' (logprob ' + fmt(p.logprob, 3) + ')' : '') + (p.cached ? ' · cached' : '') + (p.model ? ' · ' + p.model : '') }),
            el('pre', { text: str(p.prompt) }),
            el('div', null, [el('span', { cls: 'k', text: 'completion ' }), el('code', { text: JSON.stringify(str(p.completion)) })]),
          ]);
        }));
      case 'examples':
        return el('details', null, [el('summary', { text: out.length + ' in-context examples' }), el('ol', null, out.map(function (e) { return el('li', null, [str(e.question) + ' → ', el('b', { text: str(e.answer) }), e.similarity !== undefined ? el('span', { cls: 'muted', text: ' sim ' + fmt(e.similarity, 3) }) : null]); }))]);
      case 'answer': {
        var items = [el('b', { text: str(out.answer) })];
        ['score', 'logprob'].forEach(function (k) { if (typeof out[k] === 'number') items.push(el('span', { cls: 'muted', text: ' ' + k + ' ' + fmt(out[k], 4) })); });
        if (out.method) items.push(el('span', { cls: 'muted', text: ' · ' + out.method }));
        if (out.multipleChoice !== undefined) items.push(el('span', { text: ' · MC ' + str(out.multipleChoice) }));
        if (Array.isArray(out.attribution)) items.push(el('span', { cls: 'muted', text: ' · attribution over ' + out.attribution.length + ' passages (shown with the passages)' }));
        return el('div', null, items);
      }
      default:
        return el('details', null, [el('summary', { text: 'JSON' }), el('pre', { text: JSON.stringify(out, null, 1) })]);
    }
  }

  function nodeBlocks(q, nodes, label) {
    var att = attributionFor(q, nodes);
    var wrap = el('div', { cls: 'nodes' });
    var names = data.nodes.map(function (n) { return n.name; }).filter(function (n) { return nodes[n]; });
    Object.keys(nodes).forEach(function (n) { if (names.indexOf(n) < 0) names.push(n); });
    names.forEach(function (name) {
      var t = nodes[name];
      var kind = kindOf(name, t.out);
      var head = el('h4', null, [name + ' ', el('span', { cls: 'muted', text: (nodeInfo[name] ? nodeInfo[name].stage : '') + ' · ' + kind + ' · ' + ms(t.ms) + (t.cached ? ' · cached' : '') + (t.skipped ? ' · skipped' : '') })]);
      var body = [head];
      if (t.error) body.push(el('div', { cls: 'err', text: t.error }));
      body.push(artifact(name, t.out, kind, att[name]));
      if (t.notes !== undefined) body.push(el('details', { cls: 'notes' }, [el('summary', { text: 'notes' }), el('pre', { text: JSON.stringify(t.notes, null, 1) })]));
      wrap.appendChild(el('div', { cls: 'node', 'data-node': name + (label || '') }, body));
    });
    return wrap;
  }

  function timingTable(nodes) {
    return table(['node', 'stage', 'time', 'cached', 'LLM', 'status'], Object.keys(nodes).map(function (n) {
      var t = nodes[n], l = t.llm;
      return [n, nodeInfo[n] ? nodeInfo[n].stage : '', ms(t.ms), t.cached ? 'hit' : 'computed', l ? l.calls + ' (+' + l.cachedCalls + ' cached), ' + (l.promptTokens + l.completionTokens) + ' tok' : '', t.error ? 'error' : t.skipped ? 'skipped' : 'ok'];
    }));
  }

  function details(q, x) {
    var nodes = x.nodes || {};
    var box = el('div', { cls: 'details', 'data-qid': q.id });
    box.appendChild(el('h3', null, [el('span', { cls: 'muted', text: 'question ' + q.id + ' · ' }), q.q || '(question text not available)']));
    var meta = [];
    if (q.at) meta.push('answer type ' + q.at);
    if (q.qt) meta.push('question type ' + q.qt);
    meta.push(q.kn ? 'with retrieved knowledge' : 'without retrieved knowledge');
    meta.push('LLM ' + q.calls + ' calls + ' + q.cachedCalls + ' cached, ' + q.tokens + ' tokens');
    meta.push(ms(q.ms));
    box.appendChild(el('p', { cls: 'muted', text: meta.join(' · ') }));
    var top = el('div', { cls: 'top' }, [imageBlock(q, nodes), el('div', { cls: 'side' }, [answerBlock(q), el('h4', { text: 'per-node timings and cache' }), timingTable(nodes)])]);
    box.appendChild(top);
    if (q.b) {
      var bb = el('div', { cls: 'bside' }, [el('h4', { text: 'Comparison run' }),
        el('p', null, ['prediction ', el('b', { text: q.b.ok ? str(q.b.pred) : 'failed' }), q.b.acc !== undefined ? el('span', { cls: 'acc ' + (q.b.acc > 0 ? 'right' : 'wrong'), text: ' accuracy ' + pct(q.b.acc) }) : null]),
        q.b.err ? el('div', { cls: 'err', text: q.b.err }) : null,
        el('p', { text: q.b.diff.length ? 'nodes whose outputs differ: ' + q.b.diff.join(', ') : 'every node output is identical' })]);
      if (q.b.diff.length) bb.appendChild(el('details', { open: 'open' }, [el('summary', { text: 'the comparison run\u2019s outputs of those nodes' }), nodeBlocks(q, x.bNodes || {}, '-b')]));
      box.appendChild(bb);
    }
    box.appendChild(el('h4', { text: 'Node outputs' }));
    box.appendChild(nodeBlocks(q, nodes));
    return box;
  }

  // ---------- leaderboard: the run among published results ----------
  function leaderboardSection() {
    var box = el('section', { cls: 'leaderboard' }, [el('h2', { text: 'Among published results' })]);
    data.leaderboard.forEach(function (p) {
      var W = 920, labelW = 330, barW = 280, rowH = 20, H = p.rows.length * rowH + 6;
      var s = svg('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': 'accuracy among published results, ' + p.benchmarkLabel, 'class': 'chart' });
      p.rows.forEach(function (r, i) {
        var y = i * rowH + 3;
        var label = (r.caveats.length ? '* ' : '') + r.system;
        var t = svg('text', { x: labelW - 6, y: y + 13, 'text-anchor': 'end', 'class': r.run ? 'lbl run' : 'lbl', text: label.length > 48 ? label.slice(0, 47) + '…' : label });
        append(t, svg('title', { text: r.system + (r.venue ? ' — ' + r.venue : '') + (r.caveats.length ? '\n* ' + r.caveats.join('; ') : '') + (r.readAt ? '\nread at: ' + r.readAt : '') }));
        s.appendChild(t);
        s.appendChild(svg('rect', { x: labelW, y: y + 2, width: Math.max(0, r.accuracy / 100 * barW), height: 12, 'class': r.run ? 'bar run' : (r.caveats.length ? 'bar other' : 'bar a') }));
        s.appendChild(svg('text', { x: labelW + barW + 6, y: y + 13, 'class': 'val', text: fmt(r.accuracy) + (r.venue ? '  ' + r.venue : '') }));
      });
      var caveated = p.rows.filter(function (r) { return !r.run && r.caveats.length; });
      box.appendChild(el('div', { cls: 'chartbox' }, [
        el('h4', { text: p.benchmarkLabel + ': #' + p.rank + ' of ' + p.of + (p.runCaveats.length ? ' (' + p.runCaveats.join('; ') + ')' : '') }),
        s,
        caveated.length ? el('ul', { cls: 'caveats' }, caveated.map(function (r) { return el('li', { text: '* ' + r.system + ': ' + r.caveats.join('; ') }); })) : el('p', { cls: 'muted', text: 'every published number here is scored as this run' }),
      ]));
    });
    return box;
  }

  // ---------- page ----------
  app.textContent = '';
  document.title = data.title;
  app.appendChild(el('header', null, [el('h1', { text: data.title }), el('p', { cls: 'muted', text: 'generated ' + data.generatedAt + ' · one self-contained file' })]));
  var sums = el('div', { cls: 'summaries' }, [runSummary(data.run, cmp ? 'Run A (this run)' : 'Run')]);
  if (cmp) sums.appendChild(runSummary(data.compare, 'Run B (comparison)'));
  app.appendChild(sums);
  if (data.warnings.length) app.appendChild(el('ul', { cls: 'warnings' }, data.warnings.map(function (w) { return el('li', { text: w }); })));
  if (data.leaderboard && data.leaderboard.length) app.appendChild(leaderboardSection());
  if (cmp) app.appendChild(compareSection());
  app.appendChild(categorySection());
  app.appendChild(stageSection());
  app.appendChild(tableSection());
  renderHeader();
  applyFilters();
  var params = new URLSearchParams(location.hash.slice(1));
  var want = params.get('q');
  if (want) Q.forEach(function (q) { if (q.id === want) select(q); });
  window.__okvqaReport = { ready: true, loaded: false, questions: Q.length, select: function (id) { var hit = Q.filter(function (q) { return q.id === id; })[0]; return hit ? select(hit) : Promise.resolve(); } };
  domReady.then(function () { window.__okvqaReport.loaded = true; });
})();
