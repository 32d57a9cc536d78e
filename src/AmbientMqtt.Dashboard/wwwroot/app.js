// The AmbientMqtt dashboard: three panels (temperature, humidity, pressure) on one time axis, a line per node (bucket
// means) with its min–max band, live readings from /api/live without a reload. Plain script, no build step: what the
// program serves is what is here.
(function () {
  "use strict";

  const QUANTITIES = [
    { key: "temperature", unit: "°C", digits: 2 },
    { key: "humidity", unit: "%RH", digits: 2 },
    { key: "pressure", unit: "hPa", digits: 2 },
  ];
  const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];
  const WEEK_ORIGIN = 4 * 86400; // 1970-01-05, a Monday: the server aligns buckets the same way

  const state = {
    zone: "UTC",
    staleAfter: 60,
    skewMs: 0,
    span: 86400,          // the preset range, in seconds
    live: true,           // the range ends now and follows it
    from: 0, to: 0,       // unix seconds
    width: 300,           // bucket seconds
    alignOffset: 0,       // zone offset at `from`, seconds: bucket alignment
    nodes: new Map(),     // identifier → { color, visible, latest, buckets: Map(start → bucket) }
    order: [],            // identifiers in series order
    charts: [],
    zoomStack: [],
    loadSeq: 0,
    redrawPending: false,
  };

  // A handle for tests and the curious: whether the charts have drawn, and what they show.
  const probe = window.ambientDashboard = { ready: false, draws: 0, loads: 0, liveReadings: 0, nodes: () => state.order.slice(), colors: {} };

  const $ = (selector) => document.querySelector(selector);
  const status = (text, error) => { const s = $("#status"); s.textContent = text; s.className = error ? "error" : ""; };

  // ---- time in the table's zone ----

  let dateParts = null;
  function parts(seconds) {
    if (!dateParts) {
      dateParts = new Intl.DateTimeFormat("en-GB", { timeZone: state.zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
    }
    const p = {};
    for (const part of dateParts.formatToParts(new Date(seconds * 1000))) p[part.type] = part.value;
    return p;
  }
  // 2024-10-08 08:54:50 in the table's zone (or without seconds, "short").
  function formatTime(seconds, kind) {
    const p = parts(seconds);
    return p.year + "-" + p.month + "-" + p.day + " " + p.hour + ":" + p.minute + (kind === "short" ? "" : ":" + p.second);
  }
  // Axis labels: 24-hour times, the date under the first tick of each day.
  function axisValues(u, splits, axis, space, increment) {
    let day = null;
    return splits.map((v) => {
      const p = parts(v);
      const date = p.month + "-" + p.day;
      if (increment >= 86400) return date;
      const time = p.hour + ":" + p.minute + (increment < 60 ? ":" + p.second : "");
      const label = date !== day ? time + "\n" + date : time;
      day = date;
      return label;
    });
  }
  const iso = (seconds) => new Date(Math.round(seconds) * 1000).toISOString().replace(".000Z", "Z");
  const offsetOf = (text) => { const m = /([+-])(\d{2}):(\d{2})$/.exec(text); return m ? (m[1] === "-" ? -1 : 1) * (m[2] * 3600 + m[3] * 60) : 0; };
  const nowSeconds = () => (Date.now() + state.skewMs) / 1000;

  function age(seconds) {
    if (seconds < 90) return Math.max(0, Math.round(seconds)) + " s";
    if (seconds < 5400) return Math.round(seconds / 60) + " min";
    if (seconds < 172800) return Math.round(seconds / 3600) + " h";
    return Math.round(seconds / 86400) + " d";
  }

  function widthLabel(seconds) {
    if (seconds < 60) return seconds + " s";
    if (seconds < 3600) return seconds / 60 + " min";
    if (seconds < 86400) return seconds / 3600 + " h";
    return seconds / 86400 + " d";
  }

  // ---- data ----

  async function fetchJson(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" });
    const body = await response.json().catch(() => ({ error: response.status + " " + response.statusText }));
    if (!response.ok) throw new Error(body.error || response.statusText);
    return body;
  }

  function node(identifier) {
    let n = state.nodes.get(identifier);
    if (!n) {
      n = { color: COLORS[state.nodes.size % COLORS.length], visible: true, latest: null, buckets: new Map() };
      state.nodes.set(identifier, n);
      probe.colors[identifier] = n.color;
    }
    return n;
  }

  async function loadNodes() {
    const body = await fetchJson("api/nodes");
    if (body.timeZone !== state.zone) { state.zone = body.timeZone; dateParts = null; }
    state.staleAfter = body.staleAfterSeconds;
    state.skewMs = Date.parse(body.now) - Date.now();
    $("#zone").textContent = "Times in " + body.timeZone + " (UTC" + body.now.slice(-6).replace("+00:00", "±00:00") + ").";
    for (const n of body.nodes) {
      node(n.identifier).latest = { t: Date.parse(n.latest.timestamp) / 1000, temperature: n.latest.temperature, humidity: n.latest.humidity, pressure: n.latest.pressure };
    }
  }

  function bucketStart(t) {
    const w = state.width;
    const shifted = t + state.alignOffset - WEEK_ORIGIN;
    return t - (((shifted % w) + w) % w);
  }

  async function loadReadings() {
    const seq = ++state.loadSeq;
    if (state.live) { state.to = Math.ceil(nowSeconds()); state.from = state.to - state.span; }
    const points = Math.max(50, Math.min(5000, Math.round(chartWidth())));
    status("loading…");
    updateRangeControls();
    const body = await fetchJson("api/readings?from=" + encodeURIComponent(iso(state.from)) + "&to=" + encodeURIComponent(iso(state.to)) + "&points=" + points);
    if (seq !== state.loadSeq) return; // a newer request (another range, a zoom) is under way
    state.width = body.bucketSeconds;
    state.alignOffset = offsetOf(body.from);
    for (const n of state.nodes.values()) n.buckets = new Map();
    for (const b of body.buckets) {
      const t = Date.parse(b.time) / 1000;
      node(b.identifier).buckets.set(t, {
        count: b.count,
        temperature: b.temperature && [b.temperature.min, b.temperature.mean, b.temperature.max],
        humidity: b.humidity && [b.humidity.min, b.humidity.mean, b.humidity.max],
        pressure: b.pressure && [b.pressure.min, b.pressure.mean, b.pressure.max],
      });
    }
    probe.loads++;
    status(widthLabel(body.bucketSeconds) + " buckets" + (body.bucketSeconds > 1 ? " (mean, band min–max)" : "") + ", " + body.buckets.length + " in all" + (state.live ? ", live" : ""));
    draw(true);
  }

  // A live reading: into its node's bucket (the mean and band updated as the server would), then a redraw.
  function addReading(r) {
    const t = Date.parse(r.timestamp) / 1000;
    const n = node(r.identifier);
    if (!n.latest || t >= n.latest.t) n.latest = { t, temperature: r.temperature, humidity: r.humidity, pressure: r.pressure };
    probe.liveReadings++;
    if (!state.live) { renderLegend(); return; }
    const start = bucketStart(t);
    let b = n.buckets.get(start);
    if (!b) { b = { count: 0, temperature: null, humidity: null, pressure: null }; n.buckets.set(start, b); }
    b.count++;
    for (const q of QUANTITIES) {
      const v = r[q.key];
      if (v === null || v === undefined) continue;
      const s = b[q.key];
      b[q.key] = s ? [Math.min(s[0], v), s[1] + (v - s[1]) / b.count, Math.max(s[2], v)] : [v, v, v];
    }
    scheduleDraw();
  }

  // ---- charts ----

  function chartWidth() { return $("#charts").clientWidth || 800; }
  function chartHeight() { return window.innerWidth < 600 ? 170 : 220; }

  // One x array for all nodes: the union of their bucket starts. A node without a bucket at some x is `undefined`
  // there (uPlot draws across it). Where it sent nothing for longer than its usual spacing, every x of that stretch is
  // `null` for it, with one just after its last bucket and one just before the next, so uPlot breaks the line for the
  // whole stretch instead of drawing straight across the outage.
  function columns() {
    const xs = new Set();
    const gaps = new Map();
    for (const id of state.order) {
      const n = state.nodes.get(id);
      const times = [...n.buckets.keys()].sort((a, b) => a - b);
      const spacing = times.slice(1).map((t, i) => t - times[i]).sort((a, b) => a - b);
      const usual = spacing.length ? spacing[Math.floor(spacing.length / 2)] : state.width;
      const limit = Math.max(2.5 * state.width, 3 * usual);
      const stretches = [];
      times.forEach((t, i) => {
        xs.add(t);
        if (i + 1 < times.length && times[i + 1] - t > limit) {
          stretches.push([t, times[i + 1]]);
          xs.add(t + 1);
          xs.add(times[i + 1] - 1);
        }
      });
      gaps.set(id, stretches);
    }
    const x = [...xs].sort((a, b) => a - b);
    const data = { x, series: {} };
    for (const id of state.order) {
      const n = state.nodes.get(id);
      const stretches = gaps.get(id);
      const inGap = (t) => stretches.some(([a, b]) => t > a && t < b);
      for (const q of QUANTITIES) {
        const min = [], mean = [], max = [];
        for (const t of x) {
          const b = n.buckets.get(t);
          const s = b && b[q.key];
          if (s) { min.push(s[0]); mean.push(s[1]); max.push(s[2]); }
          else { const v = inGap(t) ? null : undefined; min.push(v); mean.push(v); max.push(v); }
        }
        data.series[id + "/" + q.key] = [mean, min, max];
      }
    }
    return data;
  }

  function chartOptions() {
    const series = [{ value: (u, v) => v == null ? "" : formatTime(v) }];
    const bands = [];
    for (const id of state.order) {
      const n = state.nodes.get(id);
      const base = series.length;
      // Points are drawn where the line is sparse (uPlot's default), so a lone bucket shows as a dot.
      series.push({ label: id, stroke: n.color, fill: undefined, width: 1.75, show: n.visible, spanGaps: false });
      series.push({ label: id + " min", stroke: "transparent", width: 0, show: n.visible, spanGaps: false, points: { show: false } });
      series.push({ label: id + " max", stroke: "transparent", width: 0, show: n.visible, spanGaps: false, points: { show: false } });
      bands.push({ series: [base + 2, base + 1], fill: n.color + "2e" });
    }
    return {
      width: chartWidth(),
      height: chartHeight(),
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), state.zone),
      legend: { show: false },
      scales: { x: { time: true, range: () => [state.from, state.to] } },
      axes: [
        { stroke: "#5b6876", grid: { stroke: "#eef1f4" }, ticks: { stroke: "#d8dee5" }, values: axisValues },
        // Wide enough for "1,013.25".
        { stroke: "#5b6876", grid: { stroke: "#eef1f4" }, ticks: { stroke: "#d8dee5" }, size: 64 },
      ],
      series,
      bands,
      cursor: {
        sync: { key: "ambient", setSeries: false },
        drag: { x: true, y: false, setScale: false },
        points: { size: 6 },
      },
      hooks: {
        setSelect: [(u) => { if (u.select.width > 4) zoom(u.posToVal(u.select.left, "x"), u.posToVal(u.select.left + u.select.width, "x")); u.setSelect({ left: 0, width: 0, top: 0, height: 0 }, false); }],
        setCursor: [(u) => showCursor(u)],
        draw: [() => { probe.draws++; }],
      },
    };
  }

  function draw(rebuild) {
    const order = [...state.nodes.keys()].sort();
    const changed = order.join("\n") !== state.order.join("\n");
    state.order = order;
    const data = columns();
    const panels = document.querySelectorAll(".panel");
    QUANTITIES.forEach((q, i) => {
      const arrays = [data.x];
      for (const id of state.order) arrays.push(...data.series[id + "/" + q.key]);
      if (changed || !state.charts[i]) {
        if (state.charts[i]) state.charts[i].destroy();
        const target = panels[i].querySelector(".chart");
        target.textContent = "";
        state.charts[i] = new uPlot(chartOptions(), arrays, target);
      } else {
        state.charts[i].setData(arrays, false);
        state.charts[i].setScale("x", { min: state.from, max: state.to });
      }
    });
    renderLegend();
    updateRangeControls();
    if (rebuild || changed) probe.ready = true;
  }

  function scheduleDraw() {
    if (state.redrawPending) return;
    state.redrawPending = true;
    setTimeout(() => {
      state.redrawPending = false;
      if (state.live) {
        state.to = Math.ceil(nowSeconds());
        state.from = state.to - state.span;
      }
      draw(false);
    }, 250);
  }

  function zoom(from, to) {
    state.zoomStack.push({ from: state.from, to: state.to, live: state.live, span: state.span });
    state.live = false;
    state.from = Math.floor(from);
    state.to = Math.ceil(to);
    loadReadings().catch((e) => status(e.message, true));
  }

  function back() {
    const previous = state.zoomStack.pop();
    if (!previous) return;
    Object.assign(state, previous);
    loadReadings().catch((e) => status(e.message, true));
  }

  function preset(span) {
    state.zoomStack = [];
    state.span = span;
    state.live = true;
    loadReadings().catch((e) => status(e.message, true));
  }

  // ---- legend: latest values, or the values under the cursor ----

  function renderLegend() {
    const body = $("#legend tbody");
    const rows = new Map([...body.rows].map((r) => [r.dataset.node, r]));
    for (const id of state.order) {
      let row = rows.get(id);
      if (!row) {
        row = document.createElement("tr");
        row.dataset.node = id;
        const name = document.createElement("td");
        const swatch = document.createElement("span");
        swatch.className = "swatch";
        name.append(swatch, document.createTextNode(id)); // text, never HTML: an identifier is whatever a node sent
        row.append(name, document.createElement("td"), document.createElement("td"), document.createElement("td"), document.createElement("td"));
        row.addEventListener("click", () => toggle(id));
      }
      body.append(row); // (again, for one already there: the rows follow the series order)
      const n = state.nodes.get(id);
      row.firstChild.firstChild.style.background = n.color;
      row.classList.toggle("off", !n.visible);
      rows.delete(id);
    }
    for (const stale of rows.values()) stale.remove();
    showValues(null);
  }

  function showValues(index) {
    const caption = $("#cursor");
    const x = index == null || !state.charts[0] ? null : state.charts[0].data[0][index];
    caption.textContent = x == null ? "Latest readings" : "At " + formatTime(x) + " (" + widthLabel(state.width) + " mean)";
    for (const row of $("#legend tbody").rows) {
      const n = state.nodes.get(row.dataset.node);
      const cells = row.cells;
      QUANTITIES.forEach((q, i) => {
        let v;
        if (x == null) v = n.latest ? n.latest[q.key] : null;
        else { const b = n.buckets.get(x); v = b && b[q.key] ? b[q.key][1] : null; }
        cells[i + 1].textContent = v == null ? "–" : v.toFixed(q.digits);
      });
      updateAge(row, n);
    }
  }

  function updateAge(row, n) {
    const cell = row.cells[4];
    if (!n.latest) { cell.textContent = "–"; return; }
    const seconds = nowSeconds() - n.latest.t;
    cell.textContent = age(seconds);
    cell.title = "latest reading " + formatTime(n.latest.t);
    row.classList.toggle("stale", seconds > state.staleAfter);
  }

  function showCursor(u) {
    showValues(u.cursor.idx == null || u.cursor.left < 0 ? null : u.cursor.idx);
  }

  function toggle(id) {
    const n = state.nodes.get(id);
    n.visible = !n.visible;
    const i = state.order.indexOf(id);
    for (const chart of state.charts) {
      for (let k = 1; k <= 3; k++) chart.setSeries(1 + i * 3 + k - 1, { show: n.visible });
    }
    renderLegend();
  }

  function updateRangeControls() {
    for (const b of document.querySelectorAll("#ranges button")) b.setAttribute("aria-pressed", String(state.live && Number(b.dataset.range) === state.span));
    $("#back").hidden = state.zoomStack.length === 0;
    $("#range").textContent = formatTime(state.from, "short") + " – " + formatTime(state.to, "short") + ".";
    $("#csv").href = "api/readings.csv?from=" + encodeURIComponent(iso(state.from)) + "&to=" + encodeURIComponent(iso(state.to));
  }

  // ---- live ----

  function connectLive() {
    const source = new EventSource("api/live");
    let opened = false;
    source.addEventListener("reading", (e) => addReading(JSON.parse(e.data)));
    // After a reconnection, read the range afresh: readings stored meanwhile were not announced to this page.
    source.addEventListener("open", () => { if (opened && state.live) loadReadings().catch(() => {}); opened = true; });
    source.onerror = () => status("live updates interrupted; reconnecting…", true);
  }

  // ---- start ----

  document.querySelectorAll("#ranges button").forEach((b) => b.addEventListener("click", () => preset(Number(b.dataset.range))));
  $("#back").addEventListener("click", back);
  let resizeTimer = 0;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { for (const c of state.charts) c.setSize({ width: chartWidth(), height: chartHeight() }); }, 150);
  });
  // Ages tick every second; a live range slides and is read afresh every five minutes.
  setInterval(() => { for (const row of $("#legend tbody").rows) updateAge(row, state.nodes.get(row.dataset.node)); }, 1000);
  setInterval(() => { if (state.live) loadReadings().catch((e) => status(e.message, true)); }, 300000);

  loadNodes()
    .then(loadReadings)
    .then(connectLive)
    .catch((e) => status(e.message, true));
})();
