/*
 * align4j Web Console page: runs, live metrics, logs, reward models and plugins.
 * Plain ES2020, no libraries, no build step. Everything is built inside <div id="a4j">.
 * Server text is only ever written with textContent or attribute values, never as HTML.
 */
(function () {
  'use strict';

  const SVGNS = 'http://www.w3.org/2000/svg';
  const CHART_METRICS = ['loss', 'eval_loss', 'objective/rlhf_reward', 'objective/scores', 'objective/kl',
    'accuracy', 'eval_accuracy', 'rewards/accuracies', 'learning_rate'];
  const MAX_POINTS = 5000, KEEP_RECENT = 1000, MAX_LOG = 500, MAX_DOTS = 400, FAST_MS = 1000, SLOW_MS = 10000;
  const ACTIONS = {queued: ['stop'], running: ['pause', 'stop'], paused: ['resume', 'stop']};
  const CW = 360, CH = 180, PAD = {l: 52, r: 12, t: 26, b: 24};

  // ---------------------------------------------------------------- pure helpers (formatting, scales)
  function fmtNum(v) {
    if (typeof v !== 'number' || !Number.isFinite(v)) return String(v);
    if (v === 0) return '0';
    const a = Math.abs(v);
    if (a >= 1e5 || a < 1e-3) return v.toExponential(2).replace(/\.?0+e/, 'e').replace('e+', 'e');
    return String(Number(v.toPrecision(4)));
  }

  function fmtEta(sec) {
    if (typeof sec !== 'number' || !Number.isFinite(sec) || sec < 0) return '\u2014';
    let s = Math.floor(sec);
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
    return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  }

  function fmtWhen(ms) {
    if (typeof ms !== 'number' || !(ms > 0)) return '\u2014';
    const d = new Date(ms);
    return d.toDateString() === new Date().toDateString() ? d.toLocaleTimeString() : d.toLocaleString();
  }

  function niceStep(range, n) {
    const raw = range / Math.max(1, n);
    if (!(raw > 0) || !Number.isFinite(raw)) return 1;
    const mag = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
  }

  function ticks(lo, hi, step) {
    const out = [], k0 = Math.ceil(lo / step - 1e-9), k1 = Math.floor(hi / step + 1e-9);
    for (let k = k0; k <= k1 && out.length < 50; k++) out.push(k * step);
    return out;
  }

  function niceRange(lo, hi) {
    if (lo === hi) { const d = Math.abs(lo) * 0.1 || 1; lo -= d; hi += d; }
    const step = niceStep(hi - lo, 4);
    lo = Math.floor(lo / step + 1e-9) * step;
    hi = Math.ceil(hi / step - 1e-9) * step;
    return {lo: lo, hi: hi, ticks: ticks(lo, hi, step)};
  }

  /** Halves the density of all but the newest KEEP_RECENT points. */
  function thin(pts) {
    const cut = pts.length - KEEP_RECENT, out = [];
    for (let i = 0; i < cut; i++) if (i % 2 === 0) out.push(pts[i]);
    return out.concat(pts.slice(cut));
  }

  // ---------------------------------------------------------------- DOM helpers
  function el(tag, attrs, kids) {
    const e = document.createElement(tag);
    setAttrs(e, attrs);
    for (const c of kids || []) {
      if (c !== null && c !== undefined) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return e;
  }

  function sv(tag, attrs, text) {
    const e = document.createElementNS(SVGNS, tag);
    setAttrs(e, attrs);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function setAttrs(e, attrs) {
    if (!attrs) return;
    for (const k of Object.keys(attrs)) {
      const v = attrs[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') e.textContent = String(v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
  }

  function setText(e, t) { t = String(t); if (e.textContent !== t) e.textContent = t; }
  function str(v) { return v === null || v === undefined ? '' : String(v); }
  function num(v, dflt) { return typeof v === 'number' && Number.isFinite(v) ? v : dflt; }
  function errText(e) { return e && e.unreachable ? 'server unreachable' : e && e.message ? e.message : str(e); }
  function headRow(names) { return el('thead', null, [el('tr', null, names.map((n) => el('th', {text: n})))]); }

  // ---------------------------------------------------------------- page
  function start(host) {
    const ROOT = (host.getAttribute('data-root') || '').replace(/\/+$/, '');
    let csrf = host.getAttribute('data-csrf') || '';
    const ui = build(host);
    const runs = {list: [], byId: new Map(), rows: new Map()};
    const extra = new Set();
    const last = {pipelines: null, rewards: null, rewardNames: null, plugins: null};
    let sel = null;

    // ------------------------------------------------------------ HTTP
    function request(path, init, timeoutMs) {
      const ac = typeof AbortController === 'function' ? new AbortController() : null;
      const timer = ac ? setTimeout(() => ac.abort(), timeoutMs) : 0;
      const opts = Object.assign({credentials: 'same-origin', cache: 'no-store'}, init);
      if (ac) opts.signal = ac.signal;
      return fetch(ROOT + path, opts).then((res) => res.text().then((body) => {
        let data = null;
        try { data = body ? JSON.parse(body) : {}; } catch (ignored) { data = null; }
        if (!res.ok || data === null || typeof data !== 'object') {
          const err = new Error(data && data.error ? str(data.error)
            : 'HTTP ' + res.status + (res.ok ? ': the answer is not JSON' : ' ' + res.statusText));
          err.details = data && Array.isArray(data.details) ? data.details.map(str) : [];
          err.status = res.status;
          throw err;
        }
        return data;
      }), (e) => {
        const err = new Error(e && e.name === 'AbortError' ? 'request timed out' : 'server unreachable');
        err.unreachable = true; err.details = [];
        throw err;
      }).finally(() => clearTimeout(timer));
    }

    function getJson(path) { return request(path, {method: 'GET', headers: {'Accept': 'application/json'}}, 15000); }
    function postJson(path, body) {
      return request(path, {method: 'POST', body: body,
        headers: {'Accept': 'application/json', 'X-Align4j-Csrf': csrf}}, 120000);
    }

    function form(fields) {
      const p = new URLSearchParams();
      for (const k of Object.keys(fields)) p.set(k, fields[k]);
      return p;
    }

    // ------------------------------------------------------------ polling loops
    function loop(fn, ms) {
      let timer = 0, busy = false, again = false;
      function run() {
        timer = 0;
        if (document.hidden) return;
        busy = true; again = false;
        let p;
        try { p = Promise.resolve(fn()); } catch (e) { p = Promise.reject(e); }
        p.catch((e) => setStatus(e)).then(() => {
          busy = false;
          if (!document.hidden && !timer) timer = setTimeout(run, again ? 0 : ms);
        });
      }
      return {
        kick() {
          if (busy) { again = true; return; }
          if (timer) clearTimeout(timer);
          run();
        },
        stop() { if (timer) clearTimeout(timer); timer = 0; again = false; }
      };
    }

    function setStatus(err) {
      setText(ui.status, err ? errText(err) + '; retrying' : 'Updated ' + new Date().toLocaleTimeString());
      ui.status.classList.toggle('a4j-status-error', !!err);
    }

    function firstError(results) { const bad = results.find((r) => r.status === 'rejected'); return bad && bad.reason; }

    // While the server cannot be reached, only runs.json is retried (no metrics or log requests).
    const fast = loop(() => refreshRuns().then(() => null, (e) => e).then((runsErr) => (runsErr && runsErr.unreachable
      ? setStatus(runsErr)
      : Promise.allSettled([pollMetrics(), pollLog()]).then((rs) => setStatus(runsErr || firstError(rs))))), FAST_MS);

    const slow = loop(() => Promise.allSettled([refreshState(), refreshRewards(), refreshPlugins()]), SLOW_MS);

    document.addEventListener('visibilitychange', () => {
      if (document.hidden) { fast.stop(); slow.stop(); } else { fast.kick(); slow.kick(); }
    });

    // ------------------------------------------------------------ state.json / start form
    function refreshState() {
      return getJson('/state.json').then((d) => {
        if (typeof d.csrf === 'string' && d.csrf) csrf = d.csrf; // the session's token, if the page's went stale
        const list = Array.isArray(d.pipelines) ? d.pipelines.map(str) : [];
        const key = JSON.stringify(list);
        if (key !== last.pipelines) {
          last.pipelines = key;
          const cur = ui.pipeline.value;
          ui.pipeline.textContent = '';
          if (!list.length) ui.pipeline.appendChild(el('option', {value: '', text: '(no pipelines in workspace)'}));
          for (const p of list) ui.pipeline.appendChild(el('option', {value: p, text: p}));
          if (cur && list.includes(cur)) ui.pipeline.value = cur;
          else ui.pipeline.selectedIndex = 0;
        }
        ui.workspace.textContent = ''; ui.workspace.classList.remove('a4j-error');
        ui.workspace.append('Workspace ', el('code', {text: str(d.workspace)}),
          ' \u00b7 user ' + str(d.user) + ' \u00b7 at most ' + str(d.maxConcurrent) + ' concurrent run(s)');
      }, (e) => {
        setText(ui.workspace, 'Could not load the workspace state: ' + errText(e));
        ui.workspace.classList.add('a4j-error');
        throw e;
      });
    }

    function showStartError(msg, details) {
      ui.startError.textContent = '';
      if (!msg) return;
      ui.startError.appendChild(el('p', {text: msg}));
      if (details && details.length) ui.startError.append(el('ul', null, details.map((t) => el('li', {text: t}))));
    }

    function uploadChanged() {
      const f = ui.upload.files && ui.upload.files[0];
      ui.clearUpload.hidden = ui.uploadNote.hidden = !f;
    }

    function submitStart() {
      showStartError('');
      const file = ui.upload.files && ui.upload.files[0];
      const overrides = ui.overrides.value;
      let body;
      if (file) {
        if (!/\.ya?ml$/i.test(file.name)) { showStartError('Upload a .yaml or .yml pipeline file.', []); return; }
        body = new FormData(); body.append('upload', file, file.name); body.append('overrides', overrides);
      } else {
        if (!ui.pipeline.value) { showStartError('Choose a pipeline or upload a YAML file.', []); return; }
        body = form({pipeline: ui.pipeline.value, overrides: overrides});
      }
      ui.submit.disabled = true;
      postJson('/submit.json', body).then((d) => {
        if (!d.run || d.run.id === undefined || d.run.id === null) throw new Error('The server returned no run.');
        select(upsertRun(d.run).id, true);
      }).catch((e) => showStartError(errText(e), e.details)).finally(() => { ui.submit.disabled = false; });
    }

    // ------------------------------------------------------------ runs table
    function normalize(r) {
      return {
        id: str(r.id), name: str(r.name || r.id), file: str(r.file), state: str(r.state || 'queued'),
        stage: str(r.stage), step: num(r.step, 0), totalSteps: num(r.totalSteps, 0), etaSeconds: num(r.etaSeconds, -1),
        submitted: num(r.submitted, 0), started: num(r.started, 0), ended: num(r.ended, 0), message: str(r.message),
        workDir: str(r.workDir), rewardModel: str(r.rewardModel), rewardStage: r.rewardStage === true
      };
    }

    function refreshRuns() {
      const askedAt = Date.now();
      return getJson('/runs.json').then((d) => {
        const list = Array.isArray(d.runs) ? d.runs.filter((r) => r && r.id !== undefined && r.id !== null) : [];
        runs.list = list.map(normalize);
        runs.byId = new Map(runs.list.map((r) => [r.id, r]));
        // A run selected after this request was sent may be missing from it: keep that selection.
        if (!sel || (!runs.byId.has(sel.id) && sel.since < askedAt)) {
          if (runs.list.length) select(runs.list[0].id, false);
          else if (sel) select(null, false);
        }
        renderRuns(); renderSelected();
      });
    }

    function upsertRun(raw) {
      const r = normalize(raw);
      const i = runs.list.findIndex((x) => x.id === r.id);
      if (i >= 0) runs.list[i] = r;
      else runs.list.unshift(r);
      runs.byId.set(r.id, r);
      renderRuns(); renderSelected();
      return r;
    }

    function makeRow(id) {
      const c = {};
      for (const k of ['name', 'state', 'stage', 'step', 'eta', 'started', 'message', 'actions']) {
        c[k] = el('td', {class: 'a4j-c-' + k});
      }
      c.badge = el('span', {class: 'a4j-state'}); c.state.append(c.badge);
      c.stepText = el('span'); c.bar = el('progress', {max: 1, value: 0}); c.step.append(c.stepText, c.bar);
      c.tr = el('tr', {'data-run': id}, [c.name, c.state, c.stage, c.step, c.eta, c.started, c.message, c.actions]);
      return c;
    }

    function updateRow(c, r) {
      c.tr.setAttribute('data-state', r.state);
      c.tr.classList.toggle('a4j-selected', !!sel && sel.id === r.id);
      setText(c.name, r.name); c.name.title = r.file;
      c.badge.className = 'a4j-state a4j-state-' + r.state; setText(c.badge, r.state);
      setText(c.stage, r.stage || '\u2014');
      setText(c.stepText, r.step + ' / ' + (r.totalSteps || '?'));
      const max = Math.max(1, r.totalSteps);
      if (num(c.bar.max) !== max) c.bar.max = max;
      c.bar.value = Math.min(r.step, max);
      setText(c.eta, ACTIONS[r.state] ? fmtEta(r.etaSeconds) : '\u2014');
      setText(c.started, fmtWhen(r.started));
      setText(c.message, r.message); c.message.title = r.message;
      if (c.actionsFor !== r.state) {
        c.actionsFor = r.state; c.actions.textContent = '';
        for (const a of ACTIONS[r.state] || []) {
          c.actions.appendChild(el('button', {type: 'button', 'data-action': a, class: 'a4j-btn-' + a, text: a}));
        }
        c.actions.appendChild(el('button', {type: 'button', 'data-action': 'select', text: 'show'}));
      }
    }

    function renderRuns() {
      const body = ui.runsBody, seen = new Set();
      let prev = null;
      for (const r of runs.list) {
        seen.add(r.id);
        let c = runs.rows.get(r.id);
        if (!c) { c = makeRow(r.id); runs.rows.set(r.id, c); }
        updateRow(c, r);
        const want = prev ? prev.nextSibling : body.firstChild;
        if (want !== c.tr) body.insertBefore(c.tr, want);
        prev = c.tr;
      }
      for (const [id, c] of runs.rows) {
        if (!seen.has(id)) { c.tr.remove(); runs.rows.delete(id); }
      }
      ui.runsEmpty.hidden = runs.list.length > 0;
    }

    function runAction(btn, id, action) {
      if (!ACTIONS.running.concat(ACTIONS.paused).includes(action)) return;
      btn.disabled = true; setText(ui.runsError, '');
      postJson('/' + action + '.json', form({run: id})).then((d) => {
        if (d.run) upsertRun(d.run);
      }).catch((e) => setText(ui.runsError, action + ' ' + id + ': ' + errText(e)))
        .finally(() => { btn.disabled = false; fast.kick(); });
    }

    // ------------------------------------------------------------ selected run
    function select(id, user) {
      if ((sel ? sel.id : null) === id) return;
      sel = id === null ? null : {
        id: id, since: Date.now(), next: 0, maxSeq: -Infinity, series: new Map(), charts: new Map(),
        stage: null, offset: 0, maxX: -Infinity, bounds: [], boundsDirty: false, moreKey: null,
        logNext: 0, logMaxSeq: -Infinity, lines: []
      };
      ui.charts.textContent = ui.more.textContent = ui.log.textContent = ui.rewardMessage.textContent = '';
      ui.more.hidden = true; ui.chartsEmpty.hidden = false;
      ui.run.setAttribute('data-run', id === null ? '' : id);
      ui.download.href = id === null ? '#' : ROOT + '/metrics.jsonl?run=' + encodeURIComponent(id);
      renderRuns(); renderSelected();
      if (user) fast.kick();
    }

    function renderSelected() {
      ui.run.hidden = !sel;
      if (!sel) return;
      const r = runs.byId.get(sel.id);
      setText(ui.runTitle, 'Run ' + (r ? r.name : sel.id));
      if (!r) return;
      ui.run.setAttribute('data-state', r.state);
      ui.runState.className = 'a4j-state a4j-state-' + r.state; setText(ui.runState, r.state);
      const parts = ['stage ' + (r.stage || '\u2014'), 'step ' + r.step + ' / ' + (r.totalSteps || '?')];
      if (ACTIONS[r.state]) parts.push('ETA ' + fmtEta(r.etaSeconds));
      parts.push('started ' + fmtWhen(r.started));
      if (r.ended > 0) parts.push('ended ' + fmtWhen(r.ended));
      setText(ui.runInfo, parts.join(' \u00b7 '));
      setText(ui.runFiles, 'file ' + (r.file || '\u2014') + ' \u00b7 work dir ' + (r.workDir || '\u2014'));
      setText(ui.runMsg, r.message); ui.runMsg.hidden = !r.message;
      setText(ui.rewardCurrent, r.rewardModel || '\u2014');
      ui.rewardForm.hidden = !r.rewardStage;
    }

    function addPoint(s, p) {
      if (!p || typeof p !== 'object') return;
      const seq = Number(p.seq);
      if (Number.isFinite(seq)) { if (seq <= s.maxSeq) return; s.maxSeq = seq; }
      const stage = str(p.stage), step = num(p.step, 0);
      if (s.stage !== null && stage !== s.stage) {
        // Steps that restart with a new stage continue to the right of the previous stage.
        if (s.offset + step < s.maxX) s.offset = s.maxX;
        s.bounds.push({x: s.offset + step, stage: stage});
        s.boundsDirty = true;
      }
      s.stage = stage;
      const x = s.offset + step;
      if (x > s.maxX) s.maxX = x;
      const ev = p.kind === 'evaluation';
      const ms = p.metrics && typeof p.metrics === 'object' ? p.metrics : {};
      for (const k of Object.keys(ms)) {
        const v = ms[k];
        if (typeof v !== 'number' || !Number.isFinite(v)) continue;
        let ser = s.series.get(k);
        if (!ser) { ser = {pts: [], dirty: true}; s.series.set(k, ser); }
        ser.pts.push({x: x, y: v, ev: ev}); ser.dirty = true;
        if (ser.pts.length > MAX_POINTS) ser.pts = thin(ser.pts);
      }
    }

    function pollMetrics() {
      const s = sel;
      if (!s) return Promise.resolve();
      return getJson('/metrics.json?run=' + encodeURIComponent(s.id) + '&after=' + s.next).then((d) => {
        if (sel !== s) return;
        const pts = Array.isArray(d.points) ? d.points : [];
        for (const p of pts) addPoint(s, p);
        if (typeof d.next === 'number' && Number.isFinite(d.next)) s.next = d.next;
        else if (Number.isFinite(s.maxSeq)) s.next = s.maxSeq;
        if (pts.length) renderCharts(s);
      });
    }

    function renderCharts(s) {
      const want = CHART_METRICS.filter((k) => s.series.has(k));
      for (const k of extra) if (s.series.has(k) && !want.includes(k)) want.push(k);
      want.forEach((k, i) => {
        let c = s.charts.get(k);
        if (!c) {
          const svg = sv('svg', {'data-metric': k, viewBox: '0 0 ' + CW + ' ' + CH, role: 'img',
            preserveAspectRatio: 'xMidYMid meet'});
          c = {svg: svg, wrap: el('div', {class: 'a4j-chart'}, [svg])};
          s.charts.set(k, c);
        }
        const at = ui.charts.children[i] || null;
        if (at !== c.wrap) ui.charts.insertBefore(c.wrap, at);
        const ser = s.series.get(k);
        if (ser.dirty || s.boundsDirty || !c.drawn) {
          drawChart(c.svg, k, ser.pts, s.bounds);
          ser.dirty = false; c.drawn = true;
        }
      });
      s.boundsDirty = false;
      ui.chartsEmpty.hidden = want.length > 0;
      const others = Array.from(s.series.keys()).filter((k) => !want.includes(k)).sort();
      const key = JSON.stringify(others);
      if (key !== s.moreKey) {
        s.moreKey = key; ui.more.textContent = ''; ui.more.hidden = !others.length;
        if (others.length) ui.more.appendChild(el('span', {text: 'More metrics: '}));
        for (const k of others) ui.more.append(el('button', {type: 'button', class: 'a4j-link', 'data-more': k}, [k]));
      }
    }

    function drawChart(svg, name, pts, bounds) {
      svg.textContent = '';
      const latest = pts.length ? pts[pts.length - 1].y : NaN;
      svg.appendChild(sv('title', null, name + ': ' + fmtNum(latest)));
      svg.appendChild(sv('text', {class: 'title', x: PAD.l, y: 15}, name));
      svg.appendChild(sv('text', {class: 'latest', x: CW - PAD.r, y: 15, 'text-anchor': 'end'}, fmtNum(latest)));
      let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
      for (const p of pts) {
        x0 = Math.min(x0, p.x); x1 = Math.max(x1, p.x); y0 = Math.min(y0, p.y); y1 = Math.max(y1, p.y);
      }
      if (!pts.length) { x0 = y0 = 0; x1 = y1 = 1; }
      if (x0 === x1) { x0 -= 1; x1 += 1; }
      const yr = niceRange(y0, y1);
      const xt = ticks(x0, x1, Math.max(1, niceStep(x1 - x0, 4)));
      const w = CW - PAD.l - PAD.r, h = CH - PAD.t - PAD.b;
      const sx = (x) => PAD.l + (x - x0) / (x1 - x0) * w;
      const sy = (y) => PAD.t + h - (y - yr.lo) / (yr.hi - yr.lo) * h;
      const g = sv('g', {class: 'axes'});
      for (const t of yr.ticks) {
        const y = sy(t).toFixed(1);
        g.appendChild(sv('line', {class: 'grid', x1: PAD.l, x2: CW - PAD.r, y1: y, y2: y}));
        g.appendChild(sv('text', {class: 'tick', x: PAD.l - 4, y: Number(y) + 3, 'text-anchor': 'end'}, fmtNum(t)));
      }
      for (const t of xt) {
        const x = sx(t).toFixed(1);
        g.appendChild(sv('line', {class: 'tickmark', x1: x, x2: x, y1: PAD.t + h, y2: PAD.t + h + 4}));
        g.appendChild(sv('text', {class: 'tick', x: x, y: CH - 6, 'text-anchor': 'middle'}, fmtNum(t)));
      }
      g.appendChild(sv('line', {class: 'axis', x1: PAD.l, x2: PAD.l, y1: PAD.t, y2: PAD.t + h}));
      g.appendChild(sv('line', {class: 'axis', x1: PAD.l, x2: CW - PAD.r, y1: PAD.t + h, y2: PAD.t + h}));
      svg.appendChild(g);
      for (const b of bounds) {
        if (b.x < x0 || b.x > x1) continue;
        const x = sx(b.x).toFixed(1);
        const line = sv('line', {class: 'stage', x1: x, x2: x, y1: PAD.t, y2: PAD.t + h, 'stroke-dasharray': '4 3'});
        line.appendChild(sv('title', null, 'stage ' + b.stage));
        svg.appendChild(line);
      }
      const coords = pts.map((p) => sx(p.x).toFixed(1) + ',' + sy(p.y).toFixed(1));
      svg.appendChild(sv('polyline', {class: 'line', points: coords.join(' '), 'data-points': pts.length}));
      const evs = pts.map((p, i) => (p.ev ? i : -1)).filter((i) => i >= 0);
      for (const i of evs.slice(-MAX_DOTS)) {
        const c = coords[i].split(',');
        const dot = sv('circle', {class: 'dot', cx: c[0], cy: c[1], r: 2.5});
        dot.appendChild(sv('title', null, 'step ' + fmtNum(pts[i].x) + ': ' + fmtNum(pts[i].y)));
        svg.appendChild(dot);
      }
    }

    function pollLog() {
      const s = sel;
      if (!s) return Promise.resolve();
      return getJson('/log.json?run=' + encodeURIComponent(s.id) + '&after=' + s.logNext).then((d) => {
        if (sel !== s) return;
        const lines = Array.isArray(d.lines) ? d.lines : [];
        let added = 0;
        for (const l of lines) {
          if (!l || typeof l !== 'object') continue;
          const seq = Number(l.seq);
          if (Number.isFinite(seq)) { if (seq <= s.logMaxSeq) continue; s.logMaxSeq = seq; }
          s.lines.push(str(l.text)); added++;
        }
        if (typeof d.next === 'number' && Number.isFinite(d.next)) s.logNext = d.next;
        else if (Number.isFinite(s.logMaxSeq)) s.logNext = s.logMaxSeq;
        if (!added) return;
        if (s.lines.length > MAX_LOG) s.lines.splice(0, s.lines.length - MAX_LOG);
        const pre = ui.log;
        const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;
        pre.textContent = s.lines.join('\n');
        if (atBottom) pre.scrollTop = pre.scrollHeight;
      });
    }

    function switchReward() {
      const s = sel;
      if (!s) return;
      const name = ui.rewardName.value;
      const say = (t, bad) => {
        if (sel === s) { setText(ui.rewardMessage, t); ui.rewardMessage.classList.toggle('a4j-error', !!bad); }
      };
      if (!name) { say('Choose a reward model.', true); return; }
      ui.rewardSubmit.disabled = true;
      const body = form({run: s.id, name: name, version: ui.rewardVersion.value.trim()});
      postJson('/reward.json', body).then((d) => {
        if (d.run) upsertRun(d.run);
        say(str(d.message) || 'Reward model switched.', false);
      }).catch((e) => say(errText(e), true)).finally(() => { ui.rewardSubmit.disabled = false; fast.kick(); });
    }

    // ------------------------------------------------------------ reward models and plugins
    function refreshRewards() {
      return getJson('/rewards.json').then((d) => {
        setText(ui.rewardsError, '');
        const models = Array.isArray(d.models) ? d.models.filter((m) => m && typeof m === 'object') : [];
        const key = JSON.stringify(models);
        if (key === last.rewards) return;
        last.rewards = key;
        ui.rewardsBody.textContent = '';
        if (!models.length) {
          ui.rewardsBody.append(el('tr', null, [el('td', {colspan: 5, class: 'a4j-note', text: 'No reward models.'})]));
        }
        for (const m of models) {
          const members = Array.isArray(m.members) ? m.members.filter((x) => x && typeof x === 'object') : [];
          const memberText = members.length ? members.map((x) => str(x.name) + (x.version ? ' ' + str(x.version) : '')
            + ' \u00d7 ' + fmtNum(Number(x.weight))).join(', ') : '\u2014';
          ui.rewardsBody.appendChild(el('tr', {'data-reward': str(m.name)}, [
            el('td', {text: str(m.name)}), el('td', {text: str(m.version)}), el('td', {text: str(m.aspect)}),
            el('td', {text: str(m.bundle)}), el('td', {text: memberText})]));
        }
        const names = Array.from(new Set(models.map((m) => str(m.name)).filter((n) => n))).sort();
        const nameKey = JSON.stringify(names);
        if (nameKey !== last.rewardNames) {
          const cur = ui.rewardName.value;
          last.rewardNames = nameKey; ui.rewardName.textContent = '';
          for (const n of names) ui.rewardName.appendChild(el('option', {value: n, text: n}));
          if (names.includes(cur)) ui.rewardName.value = cur;
        }
      }, (e) => {
        setText(ui.rewardsError, 'Could not load the reward models: ' + errText(e));
        throw e;
      });
    }

    function propText(v) {
      try { return v !== null && typeof v === 'object' ? JSON.stringify(v) : str(v); } catch (e) { return str(v); }
    }

    function refreshPlugins() {
      return getJson('/plugins.json').then((d) => {
        setText(ui.pluginsError, '');
        const list = Array.isArray(d.plugins) ? d.plugins.filter((p) => p && typeof p === 'object') : [];
        const key = JSON.stringify(list);
        if (key === last.plugins) return;
        last.plugins = key;
        const groups = new Map();
        for (const p of list) {
          const kind = str(p.kind) || 'other';
          if (!groups.has(kind)) groups.set(kind, []);
          groups.get(kind).push(p);
        }
        ui.plugins.textContent = '';
        if (!list.length) ui.plugins.appendChild(el('p', {class: 'a4j-note', text: 'No plugins are registered.'}));
        for (const kind of Array.from(groups.keys()).sort()) {
          const items = groups.get(kind).slice().sort((a, b) => str(a.name).localeCompare(str(b.name)));
          const body = el('tbody');
          for (const p of items) {
            const props = p.properties && typeof p.properties === 'object' ? p.properties : {};
            const propCell = el('td', {class: 'a4j-props'});
            for (const k of Object.keys(props).sort()) propCell.append(el('div', {text: k + '=' + propText(props[k])}));
            body.appendChild(el('tr', {'data-plugin': str(p.name)}, [el('td', {text: str(p.name)}),
              el('td', {text: str(p.bundle)}), el('td', {text: str(p.bundleVersion)}), propCell]));
          }
          ui.plugins.appendChild(el('div', {class: 'a4j-kind', 'data-kind': kind}, [
            el('h3', {text: kind + ' (' + items.length + ')'}),
            el('table', {class: 'a4j-table'}, [headRow(['Name', 'Bundle', 'Bundle version', 'Properties']), body])]));
        }
      }, (e) => {
        setText(ui.pluginsError, 'Could not load the plugins: ' + errText(e));
        throw e;
      });
    }

    // ------------------------------------------------------------ events and start
    ui.submit.addEventListener('click', submitStart);
    ui.upload.addEventListener('change', uploadChanged);
    ui.clearUpload.addEventListener('click', () => { ui.upload.value = ''; uploadChanged(); });
    ui.runsBody.addEventListener('click', (ev) => {
      const tr = ev.target.closest('tr[data-run]');
      if (!tr) return;
      const id = tr.getAttribute('data-run');
      const btn = ev.target.closest('button[data-action]');
      const action = btn ? btn.getAttribute('data-action') : 'select';
      if (action === 'select') select(id, true);
      else runAction(btn, id, action);
    });
    ui.more.addEventListener('click', (ev) => {
      const btn = ev.target.closest('button[data-more]');
      if (!btn || !sel) return;
      extra.add(btn.getAttribute('data-more'));
      renderCharts(sel);
    });
    ui.rewardSubmit.addEventListener('click', switchReward);

    fast.kick(); slow.kick();
  }

  function build(host) {
    const ui = {};
    host.textContent = '';
    host.classList.add('a4j-root');
    ui.status = el('div', {id: 'a4j-status', class: 'a4j-status', role: 'status', text: 'Loading\u2026'});

    ui.pipeline = el('select', {id: 'a4j-start-pipeline'});
    ui.upload = el('input', {type: 'file', id: 'a4j-start-upload', accept: '.yaml,.yml'});
    ui.clearUpload = el('button', {type: 'button', class: 'a4j-link', hidden: true, text: 'clear'});
    ui.uploadNote = el('span', {class: 'a4j-note', hidden: true, text: 'used instead of the pipeline'});
    ui.overrides = el('textarea', {id: 'a4j-start-overrides', placeholder: 'stages.0.steps=600', rows: 3,
      spellcheck: 'false', title: 'one key=value per line'});
    ui.submit = el('button', {type: 'button', id: 'a4j-start-submit', text: 'Start'});
    ui.startError = el('div', {id: 'a4j-start-error', class: 'a4j-error', role: 'alert'});
    ui.workspace = el('p', {id: 'a4j-workspace', class: 'a4j-note'});
    const startBox = el('section', {id: 'a4j-start', class: 'a4j-box'}, [
      el('h2', {text: 'Start a run'}),
      el('div', {class: 'a4j-form'}, [
        el('label', {for: 'a4j-start-pipeline', text: 'Pipeline'}), el('div', null, [ui.pipeline]),
        el('label', {for: 'a4j-start-upload', text: 'or upload'}),
        el('div', null, [ui.upload, ' ', ui.clearUpload, ' ', ui.uploadNote]),
        el('label', {for: 'a4j-start-overrides', text: 'Overrides'}), ui.overrides,
        el('span'), el('div', null, [ui.submit])]),
      ui.startError, ui.workspace]);

    ui.runsBody = el('tbody');
    ui.runsEmpty = el('p', {class: 'a4j-note', text: 'No runs yet.'});
    ui.runsError = el('div', {class: 'a4j-error', role: 'alert'});
    const runsBox = el('section', {id: 'a4j-runs-box', class: 'a4j-box'}, [
      el('h2', {text: 'Runs'}), ui.runsError,
      el('div', {class: 'a4j-scroll'}, [el('table', {id: 'a4j-runs', class: 'a4j-table'}, [
        headRow(['Name', 'State', 'Stage', 'Step', 'ETA', 'Started', 'Message', 'Actions']), ui.runsBody])]),
      ui.runsEmpty]);

    ui.runTitle = el('h2', {class: 'a4j-inline-h'});
    ui.runState = el('span', {class: 'a4j-state'});
    ui.runInfo = el('p', {class: 'a4j-note'});
    ui.runFiles = el('p', {class: 'a4j-note a4j-files'});
    ui.runMsg = el('p', {class: 'a4j-msg', hidden: true});
    ui.charts = el('div', {id: 'a4j-charts', class: 'a4j-charts'});
    ui.chartsEmpty = el('p', {class: 'a4j-note', text: 'No metrics yet.'});
    ui.more = el('div', {class: 'a4j-more', hidden: true});
    ui.log = el('pre', {id: 'a4j-log', class: 'a4j-log'});
    ui.download = el('a', {id: 'a4j-download', href: '#', download: true, text: 'metrics.jsonl'});
    ui.rewardCurrent = el('span', {id: 'a4j-reward-current', text: '\u2014'});
    ui.rewardName = el('select', {id: 'a4j-reward-name', 'aria-label': 'reward model'});
    ui.rewardVersion = el('input', {id: 'a4j-reward-version', type: 'text', placeholder: 'newest', size: 8,
      'aria-label': 'reward model version'});
    ui.rewardSubmit = el('button', {type: 'button', id: 'a4j-reward-submit', text: 'Switch'});
    ui.rewardForm = el('div', {id: 'a4j-reward-form', class: 'a4j-inline', hidden: true},
      ['Switch to ', ui.rewardName, ' version ', ui.rewardVersion, ' ', ui.rewardSubmit]);
    ui.rewardMessage = el('div', {id: 'a4j-reward-message', role: 'status'});
    ui.run = el('section', {id: 'a4j-run', class: 'a4j-box', 'data-run': '', hidden: true}, [
      el('div', {class: 'a4j-head'}, [ui.runTitle, ui.runState]), ui.runInfo, ui.runFiles, ui.runMsg,
      el('h3', {text: 'Metrics'}), ui.chartsEmpty, ui.charts, ui.more,
      el('p', {class: 'a4j-note'}, ['Download ', ui.download]),
      el('h3', {text: 'Reward model'}),
      el('div', {class: 'a4j-reward'}, [el('div', null, ['Current: ', ui.rewardCurrent]), ui.rewardForm,
        ui.rewardMessage]),
      el('h3', {text: 'Log'}), ui.log]);

    ui.rewardsBody = el('tbody');
    ui.rewardsError = el('div', {class: 'a4j-error', role: 'alert'});
    const rewardsBox = el('section', {id: 'a4j-rewards-box', class: 'a4j-box'}, [
      el('h2', {text: 'Reward models'}), ui.rewardsError,
      el('div', {class: 'a4j-scroll'}, [el('table', {id: 'a4j-rewards', class: 'a4j-table'}, [
        headRow(['Name', 'Version', 'Aspect', 'Bundle', 'Ensemble members']), ui.rewardsBody])])]);

    ui.plugins = el('div', {id: 'a4j-plugins'});
    ui.pluginsError = el('div', {class: 'a4j-error', role: 'alert'});
    const pluginsBox = el('section', {id: 'a4j-plugins-box', class: 'a4j-box'}, [
      el('h2', {text: 'Plugins'}), ui.pluginsError, ui.plugins]);

    host.append(ui.status, startBox, runsBox, ui.run, rewardsBox, pluginsBox);
    return ui;
  }

  function boot() {
    const host = document.getElementById('a4j');
    if (!host || host.getAttribute('data-a4j-started')) return;
    host.setAttribute('data-a4j-started', 'true');
    try { start(host); } catch (e) { host.textContent = 'The align4j console could not start: ' + errText(e); }
  }

  if (typeof document === 'undefined') {
    module.exports = {fmtNum: fmtNum, fmtEta: fmtEta, niceRange: niceRange, niceStep: niceStep, ticks: ticks,
      thin: thin}; // node unit tests of the pure helpers
  } else if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', boot);
  } else {
    boot();
  }
})();

