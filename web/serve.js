// okvqa serve page: drop an image, ask, see the answer with its regions, passages (with attribution) and rationales.
// Every text from the server goes through textContent / setAttribute, never innerHTML.
(function () {
  'use strict';
  var SVGNS = 'http://www.w3.org/2000/svg';
  var cfg = JSON.parse(document.getElementById('report-data').textContent);
  var app = document.getElementById('app');
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      var v = attrs[k];
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') e.textContent = String(v);
      else if (k === 'cls') e.className = v;
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, String(v));
    }
    (Array.isArray(children) ? children : children === undefined ? [] : [children]).forEach(function (c) {
      if (c === undefined || c === null || c === false) return;
      e.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    });
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs) if (attrs[k] !== undefined) { if (k === 'text') e.textContent = attrs[k]; else e.setAttribute(k, String(attrs[k])); }
    return e;
  }
  function fmt(x, d) { return typeof x === 'number' && isFinite(x) ? x.toFixed(d === undefined ? 3 : d) : '–'; }

  var file = null, previewUrl = null;
  var fileInput = el('input', { type: 'file', id: 'file', accept: 'image/*', onchange: function () { if (fileInput.files[0]) setFile(fileInput.files[0]); } });
  var drop = el('label', { cls: 'drop', 'for': 'file', id: 'drop' }, [el('span', { id: 'drop-text', text: 'Drop an image here, or click to choose one' }), fileInput]);
  drop.addEventListener('dragover', function (e) { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', function () { drop.classList.remove('over'); });
  drop.addEventListener('drop', function (e) { e.preventDefault(); drop.classList.remove('over'); if (e.dataTransfer.files[0]) setFile(e.dataTransfer.files[0]); });
  var question = el('input', { type: 'text', id: 'question', maxlength: cfg.limits.maxQuestionChars, placeholder: 'Ask a question about the image…', autocomplete: 'off' });
  var askBtn = el('button', { type: 'submit', id: 'ask', text: 'Ask' });
  var status = el('p', { id: 'status', cls: 'muted', role: 'status' });
  var result = el('div', { id: 'result' });
  var form = el('form', { id: 'form', onsubmit: function (e) { e.preventDefault(); ask(); } }, [drop, el('div', { cls: 'qrow' }, [question, askBtn])]);

  function setFile(f) {
    if (f.size > cfg.limits.maxUploadBytes) { status.textContent = 'That file is over the ' + (cfg.limits.maxUploadBytes / 1e6).toFixed(0) + ' MB limit.'; return; }
    file = f;
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = URL.createObjectURL(f);
    document.getElementById('drop-text').textContent = f.name + ' (' + Math.round(f.size / 1024) + ' kB)';
    result.textContent = '';
    result.appendChild(imageView(null));
  }

  function imageView(r) {
    var wrap = el('div', { cls: 'imgwrap' });
    if (!previewUrl) return wrap;
    var W = r && r.image && r.image.width, H = r && r.image && r.image.height;
    if (!W || !H) { wrap.appendChild(el('img', { src: previewUrl, alt: 'the image', cls: 'preview' })); return wrap; }
    var s = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, 'class': 'pic', id: 'pic' });
    var im = svg('image', { width: W, height: H, preserveAspectRatio: 'none' });
    im.setAttribute('href', previewUrl);
    s.appendChild(im);
    var tagsByRegion = {};
    (r.tags || []).forEach(function (t) { if (typeof t.region === 'number') (tagsByRegion[t.region] = tagsByRegion[t.region] || []).push(t.label); });
    var perNode = {};
    (r.regions || []).forEach(function (g) {
      var i = perNode[g.node] = (perNode[g.node] === undefined ? 0 : perNode[g.node] + 1);
      var b = g.box || {}, x = +b.xmin, y = +b.ymin, w = +b.xmax - x, h = +b.ymax - y;
      if (!isFinite(x + y + w + h)) return;
      if (g.source === 'image' && w >= W - 1 && h >= H - 1) return;
      var label = g.label ? g.label + (g.score !== undefined ? ' ' + fmt(g.score, 2) : '') : tagsByRegion[i] ? tagsByRegion[i].slice(0, 2).join(', ') : '';
      var rect = svg('rect', { x: x, y: y, width: w, height: h, 'class': 'box' });
      var title = svg('title', { text: g.node + ' #' + i + (label ? ': ' + label : '') });
      rect.appendChild(title);
      s.appendChild(rect);
      if (label) s.appendChild(svg('text', { x: x + 3, y: y + Math.max(12, H / 28), 'class': 'boxlbl', 'font-size': Math.max(10, H / 28), text: label }));
    });
    wrap.appendChild(s);
    return wrap;
  }

  function table(headers, rows, cls) {
    return el('table', { cls: 'grid ' + (cls || '') }, [el('thead', null, el('tr', null, headers.map(function (h) { return el('th', { text: h }); }))),
      el('tbody', null, rows.map(function (r) { return el('tr', null, r.map(function (c) { return el('td', null, typeof c === 'object' && c !== null ? c : String(c === undefined || c === null ? '' : c)); })); }))]);
  }
  function meter(v, max) {
    var m = el('span', { cls: 'meter' }, el('span', { style: 'width:' + Math.max(0, Math.min(100, v / (max || 1) * 100)).toFixed(1) + '%' }));
    return el('span', null, [m, ' ' + fmt(v, 4)]);
  }

  function show(r) {
    result.textContent = '';
    var side = el('div', { cls: 'side' });
    side.appendChild(el('div', { cls: 'answer' }, [el('span', { cls: 'k', text: 'answer' }), el('b', { id: 'answer', text: r.ok ? (r.answer === '' ? '(empty)' : r.answer) : 'no answer' }), r.score !== undefined ? el('span', { cls: 'muted', text: ' score ' + fmt(r.score, 4) }) : null]));
    if (r.error && typeof r.error === 'string') side.appendChild(el('p', { cls: 'err', text: r.error }));
    if (r.captions && r.captions.length) side.appendChild(el('p', null, [el('span', { cls: 'k', text: 'caption' }), el('q', { id: 'caption', text: r.captions.map(function (c) { return c.text; }).join(' | ') })]));
    if (r.tags && r.tags.length) side.appendChild(el('div', { cls: 'tags' }, [el('span', { cls: 'k', text: 'tags' })].concat(r.tags.slice(0, 40).map(function (t) { return el('span', { cls: 'chip', text: t.label + ' ' + fmt(t.conf, 2) }); }))));
    side.appendChild(el('p', { cls: 'muted', text: 'pipeline ' + r.pipeline + ' · ' + fmt(r.ms / 1000, 2) + ' s · ' + (r.timings || []).map(function (t) { return t.node + ' ' + fmt(t.ms, 0) + ' ms' + (t.cached ? ' (cached)' : ''); }).join(', ') }));
    result.appendChild(el('div', { cls: 'top' }, [imageView(r), side]));
    var withRationale = (r.candidates || []).filter(function (c) { return c.evidence; });
    if ((r.candidates || []).length) {
      result.appendChild(el('h3', { text: withRationale.length ? 'Candidates and rationales' : 'Candidates' }));
      result.appendChild(table(['answer', 'score', 'rationale', 'node'], r.candidates.slice(0, 30).map(function (c) { return [c.answer, fmt(c.score, 4), c.evidence || '', c.node]; }), 'cands'));
    }
    if ((r.passages || []).length) {
      var hasAtt = r.passages.some(function (p) { return typeof p.attribution === 'number'; });
      var ps = r.passages.slice();
      if (hasAtt) ps.sort(function (a, b) { return (b.attribution || 0) - (a.attribution || 0); });
      var maxA = Math.max.apply(null, ps.map(function (p) { return p.attribution || 0; }).concat([1e-9]));
      result.appendChild(el('h3', { text: 'Passages the answer read' + (hasAtt ? ' (by attribution)' : '') }));
      result.appendChild(table(hasAtt ? ['attribution', 'passage', 'score', 'source'] : ['passage', 'score', 'source'], ps.map(function (p) {
        var row = [p.text, fmt(p.score, 3), (p.source || '') + (p.region !== undefined ? ' · region ' + p.region : '') + ' · ' + p.node];
        if (hasAtt) row.unshift(typeof p.attribution === 'number' ? meter(p.attribution, maxA) : '–');
        return row;
      }), 'passages'));
    }
  }

  function ask() {
    var q = question.value.trim();
    if (!file) { status.textContent = 'Choose an image first.'; return; }
    if (!q) { status.textContent = 'Type a question.'; return; }
    var body = new FormData();
    body.append('question', q);
    body.append('image', file, file.name);
    askBtn.disabled = true;
    status.textContent = 'Thinking…';
    var t0 = performance.now();
    fetch('/api/answer', { method: 'POST', body: body }).then(function (res) {
      return res.json().then(function (j) { return { status: res.status, body: j }; }, function () { return { status: res.status, body: { error: 'HTTP ' + res.status } }; });
    }).then(function (x) {
      askBtn.disabled = false;
      if (x.status !== 200 && !x.body.pipeline) { status.textContent = 'Error ' + x.status + ': ' + x.body.error; return; }
      status.textContent = x.status === 200 ? 'Answered in ' + ((performance.now() - t0) / 1000).toFixed(2) + ' s.' : 'Error ' + x.status + ': ' + x.body.error;
      show(x.body);
    }, function (err) {
      askBtn.disabled = false;
      status.textContent = 'Request failed: ' + err;
    });
  }

  app.textContent = '';
  app.appendChild(el('header', null, [el('h1', { text: 'okvqa' }), el('p', { cls: 'muted', text: 'pipeline ' + cfg.pipeline + ' · images up to ' + (cfg.limits.maxUploadBytes / 1e6).toFixed(0) + ' MB and ' + (cfg.limits.maxPixels / 1e6).toFixed(0) + ' megapixels' + (cfg.adaptations.length ? ' · ' + cfg.adaptations.map(function (a) { return a.node + ': ' + a.to; }).join(', ') : '') })]));
  app.appendChild(form);
  app.appendChild(status);
  app.appendChild(result);
  window.__okvqaServe = { ready: true };
})();
