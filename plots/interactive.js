// Interactive t-SimCNE map: a canvas scatter with pan and zoom, hover
// thumbnails and a legend that toggles classes. Hand-written, no libraries,
// so that the page works offline and inside a notebook.
//
// Data (JSON in #map-data, written by plots.Interactive):
//   n          number of points
//   bounds     [minX, minY, maxX, maxY] of the embedding
//   xy         base64, 2n little-endian uint16: x,y quantised to [0,65535] over bounds
//   labels     base64, n little-endian uint8 (labelBytes 1) or uint16 (2); null if unlabelled
//   classes    class names; colors: "#rrggbb" per class; counts: points per class
//   radius, alpha   point radius in CSS px and opacity (0: automatic, as plots.AutoPointStyle)
//   thumbs     null, or {size, cols, perSheet, sheets: [data URIs]}: image i is tile
//              i%perSheet of sheet floor(i/perSheet), row-major with cols tiles a row
//   highlight  [[index, text], ...] points to ring (outliers)
//   groups     optional superclasses: [{name, color, classes: [class indices]}]
//   names      optional name per point (shown on hover), or nameFiles: scripts of
//              namesPer names each, calling tsimcneNames(k, [names]), loaded on hover
//   seed       seed of the drawing order
//
// The URL fragment can preset the view: #hide=0,3 hides classes 0 and 3,
// #point=123 shows point 123's tooltip, #view=x,y,z centres the map on data
// point (x, y) at z times the fitted zoom (joined with &). #bench=F times
// the page: after the first drawing it pans F frames through the drag's
// code (by the plot's width and back), drawing each one synchronously, and
// writes {"open_ms","frames","frame_ms_mean","frame_ms_max","start","view",
// "farthest_px","rasters"} (views as [x, y, zoom]; the farthest pan in CSS
// px; how many frames rasterised the points anew) as JSON into the
// data-bench attribute of <body> (read with chromium --dump-dom).
//
// Drawing: points are rasterised by hand into an ImageData buffer (an
// anti-aliased disc mask blended "source over" into the pixels), in a fixed
// random order so that no class covers another. That is a few milliseconds
// for 60 000 points, faster than one canvas arc per point; the buffer covers
// more than the view, so that panning copies it instead of drawing the
// points again (see rasterise). Hover hit-testing uses a uniform grid over
// the embedding, built once.
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('map-data').textContent);
  var N = D.n;

  // ---- decode the data
  function bytes(b64) {
    var s = atob(b64), a = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) a[i] = s.charCodeAt(i);
    return a;
  }
  var X = new Float32Array(N), Y = new Float32Array(N);
  (function () {
    var dv = new DataView(bytes(D.xy).buffer), b = D.bounds;
    var sx = (b[2] - b[0]) / 65535, sy = (b[3] - b[1]) / 65535;
    for (var i = 0; i < N; i++) {
      X[i] = b[0] + dv.getUint16(4 * i, true) * sx;
      Y[i] = b[1] + dv.getUint16(4 * i + 2, true) * sy;
    }
  })();
  var K = D.labels ? D.classes.length : 1;
  var L = new Uint16Array(N); // label per point (0 when unlabelled)
  if (D.labels) {
    var lb = bytes(D.labels), ldv = new DataView(lb.buffer);
    for (var i = 0; i < N; i++) L[i] = D.labelBytes === 2 ? ldv.getUint16(2 * i, true) : lb[i];
  }
  var RGB = D.colors.map(function (c) {
    return [parseInt(c.substr(1, 2), 16), parseInt(c.substr(3, 2), 16), parseInt(c.substr(5, 2), 16)];
  });
  var hidden = new Uint8Array(K);

  // Drawing order: a seeded Fisher-Yates shuffle (mulberry32 generator).
  var order = new Uint32Array(N);
  (function () {
    var t = (D.seed >>> 0) || 1;
    function rnd() {
      t = (t + 0x6D2B79F5) >>> 0;
      var r = Math.imul(t ^ (t >>> 15), 1 | t);
      r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
      return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
    }
    for (var i = 0; i < N; i++) order[i] = i;
    for (i = N - 1; i > 0; i--) {
      var j = Math.floor(rnd() * (i + 1)), tmp = order[i];
      order[i] = order[j]; order[j] = tmp;
    }
  })();

  // ---- hover grid: G×G cells over the bounds, points listed per cell (CSR)
  var B = D.bounds, G = Math.max(1, Math.ceil(Math.sqrt(N / 3)));
  var gw = (B[2] - B[0]) / G || 1, gh = (B[3] - B[1]) / G || 1;
  var cellStart = new Uint32Array(G * G + 1), cellItems = new Uint32Array(N);
  function cellOf(i) {
    var cx = Math.min(G - 1, Math.floor((X[i] - B[0]) / gw)), cy = Math.min(G - 1, Math.floor((Y[i] - B[1]) / gh));
    return cy * G + cx;
  }
  (function () {
    var i, c, fill = new Uint32Array(G * G);
    for (i = 0; i < N; i++) cellStart[cellOf(i) + 1]++;
    for (c = 0; c < G * G; c++) cellStart[c + 1] += cellStart[c];
    for (i = 0; i < N; i++) { c = cellOf(i); cellItems[cellStart[c] + fill[c]++] = i; }
  })();

  // ---- page elements
  var plot = document.getElementById('plot');
  var cv = document.getElementById('points'), ctx = cv.getContext('2d');
  var ov = document.getElementById('overlay'), octx = ov.getContext('2d');
  var tip = document.getElementById('tip'), tipText = document.getElementById('tiptext');
  var thumb = document.getElementById('thumb'), tctx = thumb.getContext('2d');
  var sizeIn = document.getElementById('size'), opIn = document.getElementById('opacity');
  document.getElementById('hint').textContent = N.toLocaleString('en') + ' points' +
    (D.labels ? ', ' + K + ' classes' : '') +
    ' \u00b7 wheel: zoom \u00b7 drag: pan \u00b7 double-click: reset' +
    (D.labels ? ' \u00b7 click a class: show/hide, shift-click: only it' : '');
  if (!D.thumbs) thumb.style.display = 'none';

  // ---- view: data point (cx, cy) at the canvas centre, s CSS px per unit
  var W = 1, H = 1, dpr = 1, view = { cx: 0, cy: 0, s: 1 }, fitS = 1;
  function fit() {
    var dx = B[2] - B[0] || 1, dy = B[3] - B[1] || 1;
    fitS = 0.94 * Math.min(W / dx, H / dy);
    view = { cx: (B[0] + B[2]) / 2, cy: (B[1] + B[3]) / 2, s: fitS };
  }
  function toScreen(i) { return [W / 2 + (X[i] - view.cx) * view.s, H / 2 - (Y[i] - view.cy) * view.s]; }

  // Automatic style, the formula of plots.AutoPointStyle on the fitted area.
  function baseStyle() {
    var a = (B[2] - B[0]) * (B[3] - B[1]) * fitS * fitS || W * H;
    var r = D.radius > 0 ? D.radius : Math.min(4, Math.max(0.6, 0.3 * Math.sqrt(a / N)));
    var al = D.alpha > 0 ? D.alpha : Math.min(0.9, Math.max(0.4, 0.9 - 0.15 * Math.log10(N / 1000)));
    return [r, al];
  }
  var alpha = 0.8;
  function radius() { // grows with the square root of the zoom, times the slider
    return baseStyle()[0] * Math.sqrt(Math.max(1, view.s / fitS)) * Math.pow(2, +sizeIn.value);
  }

  // Coverage mask of a disc of radius r (device px), 4×4 samples per pixel.
  var maskR = -1, mdx = [], mdy = [], mcov = [];
  function mask(r) {
    if (r === maskR) return;
    maskR = r; mdx = []; mdy = []; mcov = [];
    var e = Math.ceil(r + 0.5);
    for (var y = -e; y <= e; y++) for (var x = -e; x <= e; x++) {
      var inside = 0;
      for (var sy = 0; sy < 4; sy++) for (var sx = 0; sx < 4; sx++) {
        var px = x - 0.375 + sx * 0.25, py = y - 0.375 + sy * 0.25;
        if (px * px + py * py <= r * r) inside++;
      }
      var cov = inside / 16;
      if (x === 0 && y === 0) cov = Math.max(cov, Math.min(1, Math.PI * r * r));
      if (cov > 0) { mdx.push(x); mdy.push(y); mcov.push(cov); }
    }
  }

  // The points in drawing order, so that rasterising reads memory in
  // sequence (with a million points, the shuffled order's cache misses
  // cost more than the drawing).
  var OX = new Float32Array(N), OY = new Float32Array(N), OL = new Uint16Array(N);
  for (var k0 = 0; k0 < N; k0++) { OX[k0] = X[order[k0]]; OY[k0] = Y[order[k0]]; OL[k0] = L[order[k0]]; }

  // Level of detail for panning: the points are rasterised into a tile
  // that covers the view plus half of it on every side; panning within it
  // only copies the tile's visible part to the canvas (a few ms whatever
  // the number of points), and the tile is rasterised again when the view
  // leaves it, the zoom changes, or styleVersion does (classes shown,
  // point size, opacity, canvas size).
  var tile = null, styleVersion = 0, rasters = 0;
  function rasterise() {
    var w = cv.width, h = cv.height, mx = Math.round(w / 2), my = Math.round(h / 2);
    var tw = w + 2 * mx, th = h + 2 * my;
    if (!tile || tile.img.width !== tw || tile.img.height !== th) tile = { img: ctx.createImageData(tw, th) };
    tile.w = w; tile.h = h; tile.mx = mx; tile.my = my;
    tile.cx = view.cx; tile.cy = view.cy; tile.s = view.s; tile.version = styleVersion;
    rasters++;
    var buf = tile.img.data;
    new Uint32Array(buf.buffer).fill(0xffffffff);
    var r = radius() * dpr;
    mask(Math.round(r * 4) / 4);
    var s = view.s * dpr, ox = tw / 2 - view.cx * s, oy = th / 2 + view.cy * s;
    var m = mdx.length, e = Math.ceil(maskR + 1);
    for (var k = 0; k < N; k++) {
      var c = OL[k];
      if (hidden[c]) continue;
      var ix = Math.round(ox + OX[k] * s), iy = Math.round(oy - OY[k] * s);
      if (ix < -e || iy < -e || ix >= tw + e || iy >= th + e) continue;
      var col = RGB[c], R = col[0], Gc = col[1], Bc = col[2];
      for (var j = 0; j < m; j++) {
        var xx = ix + mdx[j], yy = iy + mdy[j];
        if (xx < 0 || yy < 0 || xx >= tw || yy >= th) continue;
        var p = (yy * tw + xx) << 2, t = alpha * mcov[j];
        buf[p] += (R - buf[p]) * t;
        buf[p + 1] += (Gc - buf[p + 1]) * t;
        buf[p + 2] += (Bc - buf[p + 2]) * t;
      }
    }
  }
  function render() {
    var w = cv.width, h = cv.height, s = view.s * dpr;
    if (!tile || tile.version !== styleVersion || tile.s !== view.s || tile.w !== w || tile.h !== h) rasterise();
    var dx = Math.round((view.cx - tile.cx) * s), dy = Math.round((tile.cy - view.cy) * s);
    if (Math.abs(dx) > tile.mx || Math.abs(dy) > tile.my) { rasterise(); dx = 0; dy = 0; }
    var sx = tile.mx + dx, sy = tile.my + dy; // the view's corner in the tile
    ctx.putImageData(tile.img, -sx, -sy, sx, sy, w, h);
    drawOverlay();
  }

  var pending = false;
  function redraw() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; render(); });
  }

  // ---- overlay: highlighted points (outliers) and the hovered point
  var hover = -1;
  function ring(i, rr, width, color) {
    var p = toScreen(i);
    octx.beginPath();
    octx.arc(p[0], p[1], rr, 0, 2 * Math.PI);
    octx.lineWidth = width; octx.strokeStyle = color; octx.stroke();
    return p;
  }
  function drawOverlay() {
    octx.setTransform(dpr, 0, 0, dpr, 0, 0);
    octx.clearRect(0, 0, W, H);
    var rr = Math.max(7, 4 * radius());
    octx.font = 'bold 11px "Liberation Sans", Arial, sans-serif';
    (D.highlight || []).forEach(function (h) {
      if (hidden[L[h[0]]]) return;
      ring(h[0], rr, 3.5, '#fff');
      var p = ring(h[0], rr, 1.6, '#000');
      if (h[1]) {
        var tx = p[0] + rr * 0.75 + 2, ty = p[1] - rr * 0.75, tw = octx.measureText(h[1]).width;
        octx.fillStyle = 'rgba(255,255,255,0.8)'; octx.fillRect(tx - 1.5, ty - 9.5, tw + 3, 12);
        octx.fillStyle = '#000'; octx.fillText(h[1], tx, ty);
      }
    });
    if (hover >= 0) {
      ring(hover, Math.max(5, 2 * radius()) + 1, 3, '#fff');
      ring(hover, Math.max(5, 2 * radius()), 1.5, '#000');
    }
  }

  // ---- hover: nearest visible point within a few pixels
  function pick(mx, my) {
    var dx = view.cx + (mx - W / 2) / view.s, dy = view.cy - (my - H / 2) / view.s;
    var rad = Math.max(6, 2.5 * radius()) / view.s, best = -1, bd = rad * rad;
    var x0 = Math.max(0, Math.floor((dx - rad - B[0]) / gw)), x1 = Math.min(G - 1, Math.floor((dx + rad - B[0]) / gw));
    var y0 = Math.max(0, Math.floor((dy - rad - B[1]) / gh)), y1 = Math.min(G - 1, Math.floor((dy + rad - B[1]) / gh));
    for (var cy = y0; cy <= y1; cy++) for (var cx = x0; cx <= x1; cx++) {
      var c = cy * G + cx;
      for (var k = cellStart[c]; k < cellStart[c + 1]; k++) {
        var i = cellItems[k];
        if (hidden[L[i]]) continue;
        var d = (X[i] - dx) * (X[i] - dx) + (Y[i] - dy) * (Y[i] - dy);
        if (d <= bd) { bd = d; best = i; }
      }
    }
    return best;
  }

  var sheets = [];
  function sheet(k) {
    if (!sheets[k]) {
      sheets[k] = new Image();
      sheets[k].onload = function () { if (hover >= 0) drawThumb(hover); };
      sheets[k].src = D.thumbs.sheets[k];
    }
    return sheets[k];
  }
  function drawThumb(i) {
    var T = D.thumbs, j = i % T.perSheet, im = sheet(Math.floor(i / T.perSheet));
    tctx.fillStyle = '#eee'; tctx.fillRect(0, 0, 96, 96);
    if (!im.complete || !im.naturalWidth) return;
    tctx.imageSmoothingEnabled = T.size >= 48;
    tctx.drawImage(im, (j % T.cols) * T.size, Math.floor(j / T.cols) * T.size, T.size, T.size, 0, 0, 96, 96);
  }
  // Point names: embedded, or loaded a file at a time when first needed.
  var nameChunks = [], lastTip = null;
  window.tsimcneNames = function (k, arr) {
    nameChunks[k] = arr;
    if (lastTip && hover === lastTip[0] && Math.floor(hover / D.namesPer) === k) showTip(lastTip[0], lastTip[1], lastTip[2]);
  };
  function nameOf(i) {
    if (D.names) return D.names[i];
    if (!D.nameFiles) return null;
    var k = Math.floor(i / D.namesPer);
    if (nameChunks[k]) return nameChunks[k][i - k * D.namesPer];
    if (nameChunks[k] === undefined) {
      nameChunks[k] = null; // loading
      var sc = document.createElement('script');
      sc.src = D.nameFiles[k];
      document.head.appendChild(sc);
    }
    return '\u2026';
  }
  function showTip(i, mx, my) {
    lastTip = [i, mx, my];
    var html = '';
    if (D.labels) html += '<span class="sw" style="background:' + D.colors[L[i]] + '"></span>' + esc(D.classes[L[i]]) + '<br>';
    var nm = nameOf(i);
    if (nm != null) html += '<span class="nm">' + esc(nm) + '</span><br>';
    html += 'index ' + i + '<br><span style="color:#888">(' + X[i].toPrecision(4) + ', ' + Y[i].toPrecision(4) + ')</span>';
    tipText.innerHTML = html;
    if (D.thumbs) drawThumb(i);
    tip.style.display = 'block';
    var tw = tip.offsetWidth, th = tip.offsetHeight;
    tip.style.left = (mx + 14 + tw > W ? mx - 14 - tw : mx + 14) + 'px';
    tip.style.top = Math.max(0, Math.min(H - th, my - th / 2)) + 'px';
  }
  function esc(s) { return String(s).replace(/[&<>"]/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; }); }
  function setHover(i, mx, my) {
    if (i < 0) tip.style.display = 'none'; else showTip(i, mx, my);
    if (i !== hover) { hover = i; drawOverlay(); }
  }

  // ---- pan and zoom
  var drag = null;
  function local(e) { var r = plot.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; }
  plot.addEventListener('wheel', function (e) {
    e.preventDefault();
    var m = local(e), dy = e.deltaY * (e.deltaMode === 1 ? 33 : e.deltaMode === 2 ? 400 : 1);
    var f = Math.exp(-dy * 0.0015), s = Math.min(fitS * 5000, Math.max(fitS * 0.3, view.s * f));
    var ax = view.cx + (m[0] - W / 2) / view.s, ay = view.cy - (m[1] - H / 2) / view.s;
    view.s = s; view.cx = ax - (m[0] - W / 2) / s; view.cy = ay + (m[1] - H / 2) / s;
    setHover(-1); redraw();
  }, { passive: false });
  plot.addEventListener('pointerdown', function (e) {
    if (e.button !== 0) return;
    drag = { p: local(e), cx: view.cx, cy: view.cy };
    plot.setPointerCapture(e.pointerId); plot.classList.add('dragging'); setHover(-1);
  });
  // panTo places the view as a drag from drag.p to m: one code for the
  // mouse and #bench.
  function panTo(d, m) {
    view.cx = d.cx - (m[0] - d.p[0]) / view.s;
    view.cy = d.cy + (m[1] - d.p[1]) / view.s;
  }
  plot.addEventListener('pointermove', function (e) {
    var m = local(e);
    if (drag) {
      panTo(drag, m);
      redraw();
    } else {
      setHover(pick(m[0], m[1]), m[0], m[1]);
    }
  });
  function endDrag() { drag = null; plot.classList.remove('dragging'); }
  plot.addEventListener('pointerup', endDrag);
  plot.addEventListener('pointercancel', endDrag);
  plot.addEventListener('pointerleave', function () { if (!drag) setHover(-1); });
  plot.addEventListener('dblclick', function () { fit(); redraw(); });

  // ---- legend and controls
  var entries = [], groupEls = [];
  function syncLegend() {
    styleVersion++;
    entries.forEach(function (el, c) { if (el) el.classList.toggle('off', !!hidden[c]); });
    groupEls.forEach(function (el, g) {
      el.classList.toggle('off', D.groups[g].classes.every(function (c) { return hidden[c]; }));
    });
  }
  var legend = document.getElementById('legend');
  function addGroup(g) { // a superclass header: click toggles all its classes
    var el = document.createElement('div');
    el.className = 'entry group';
    el.title = 'click: show/hide the whole group';
    el.innerHTML = '<span class="sw" style="background:' + g.color + '"></span><span class="name">' + esc(g.name) + '</span>';
    el.addEventListener('click', function () {
      var anyOn = g.classes.some(function (c) { return !hidden[c]; });
      g.classes.forEach(function (c) { hidden[c] = anyOn ? 1 : 0; });
      syncLegend(); setHover(-1); redraw();
    });
    legend.appendChild(el);
    groupEls.push(el);
  }
  function addClass(c, indent) { // click toggles the class, shift-click shows it alone
    var el = document.createElement('div');
    el.className = 'entry';
    el.title = 'click: show/hide; shift-click: show only this class';
    el.innerHTML = '<span class="sw" style="background:' + D.colors[c] + '"></span><span class="name">' +
      esc(D.classes[c]) + '</span><span class="count">' + D.counts[c] + '</span>';
    el.addEventListener('click', function (e) {
      if (e.shiftKey || e.altKey) {
        var solo = !hidden[c] && hidden.every(function (h, k) { return k === c || h; });
        for (var k = 0; k < K; k++) hidden[k] = solo ? 0 : (k === c ? 0 : 1);
      } else {
        hidden[c] ^= 1;
      }
      syncLegend(); setHover(-1); redraw();
    });
    if (indent) el.style.paddingLeft = '22px';
    legend.appendChild(el);
    entries[c] = el;
  }
  if (D.labels && D.groups) {
    D.groups.forEach(function (g) { addGroup(g); g.classes.forEach(function (c) { addClass(c, true); }); });
  } else if (D.labels) {
    for (var c = 0; c < K; c++) addClass(c, false);
  } else {
    legend.style.display = 'none';
    document.getElementById('all').style.display = 'none';
    document.getElementById('none').style.display = 'none';
  }
  document.getElementById('all').onclick = function () { hidden.fill(0); syncLegend(); redraw(); };
  document.getElementById('none').onclick = function () { hidden.fill(1); syncLegend(); setHover(-1); redraw(); };
  document.getElementById('reset').onclick = function () { fit(); redraw(); };
  sizeIn.oninput = function () { styleVersion++; redraw(); };
  opIn.oninput = function () { alpha = +opIn.value; styleVersion++; redraw(); };

  // ---- size
  function resize() {
    var r = plot.getBoundingClientRect(), first = W === 1 && H === 1;
    var oldFit = fitS;
    W = Math.max(1, r.width); H = Math.max(1, r.height); dpr = window.devicePixelRatio || 1;
    cv.width = ov.width = Math.round(W * dpr);
    cv.height = ov.height = Math.round(H * dpr);
    styleVersion++;
    if (first) {
      fit();
      alpha = baseStyle()[1];
      opIn.value = alpha;
    } else {
      var s = view.s / oldFit; // keep the zoom level relative to the fit
      var c = [view.cx, view.cy];
      fit(); view.s = fitS * s; view.cx = c[0]; view.cy = c[1];
    }
    render();
  }
  window.addEventListener('resize', resize);

  // ---- state from the URL fragment, to share a view or a point:
  //   #hide=0,3   hide classes 0 and 3 (label indices)
  //   #point=123  show point 123 as if hovered
  var hash = {};
  location.hash.replace(/^#/, '').split('&').forEach(function (kv) {
    var p = kv.split('=');
    if (p[0]) hash[p[0]] = decodeURIComponent(p[1] || '');
  });
  if (hash.hide) hash.hide.split(',').forEach(function (c) { if (+c >= 0 && +c < K) hidden[+c] = 1; });
  syncLegend();
  resize();
  if (hash.view) {
    var v = hash.view.split(',').map(Number);
    if (v.length === 3 && v.every(isFinite) && v[2] > 0) {
      view = { cx: v[0], cy: v[1], s: fitS * v[2] };
      render();
    }
  }
  var pt = parseInt(hash.point, 10);
  if (pt >= 0 && pt < N) {
    var sp = toScreen(pt);
    setHover(pt, sp[0], sp[1]);
  }
  if (hash.bench) bench(Math.max(1, Math.min(1000, parseInt(hash.bench, 10) || 30)));

  // bench pans F frames to the right by the plot's width and back (out of
  // the rasterised tile and in again), drawing each frame and reading a
  // pixel back so that it is on the canvas.
  function bench(F) {
    var open = performance.now(), d = { p: [0, H / 2], cx: view.cx, cy: view.cy }, r0 = rasters;
    var sum = 0, worst = 0, start = [view.cx, view.cy, view.s / fitS], far = 0;
    for (var f = 1; f <= F; f++) {
      var t0 = performance.now();
      var frac = f <= F / 2 ? f / (F / 2) : (F - f) / (F / 2);
      panTo(d, [frac * W, H / 2]);
      render();
      ctx.getImageData(0, 0, 1, 1);
      var dt = performance.now() - t0;
      sum += dt; worst = Math.max(worst, dt);
      far = Math.max(far, Math.abs(view.cx - start[0]) * view.s);
    }
    document.body.setAttribute('data-bench', JSON.stringify({ open_ms: Math.round(open), frames: F,
      frame_ms_mean: +(sum / F).toFixed(2), frame_ms_max: +worst.toFixed(2), start: start, view: [view.cx, view.cy, view.s / fitS], farthest_px: Math.round(far),
      rasters: rasters - r0 }));
  }
})();
