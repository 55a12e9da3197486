// The dashboard. Everything from the scanned code reaches the page through textContent or
// validated http(s) hrefs only, never as HTML.
"use strict";

const MAX_ROWS = 1000;
const SVG = "http://www.w3.org/2000/svg";
const state = { records: [], sort: { key: "nodeid", dir: 1 }, snapshot: null, info: {} };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
  for (const child of children) node.append(child === null || child === undefined ? "" : child);
  return node;
}

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
  return node;
}

// An http(s) URL as a string, or null: nothing else becomes a link.
function safeUrl(text) {
  if (typeof text !== "string" || !/^https?:\/\//i.test(text)) return null;
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch (e) {
    return null;
  }
}

function link(text, href) {
  const url = safeUrl(href);
  if (!url) return document.createTextNode(text);
  return el("a", { href: url, rel: "noopener noreferrer", target: "_blank" }, text);
}

function ticketHref(ticket) {
  if (!ticket) return null;
  if (safeUrl(ticket)) return ticket;
  const template = state.info.ticket_url;
  return template ? template.split("{ticket}").join(encodeURIComponent(ticket)) : null;
}

function fileHref(record) {
  const snap = state.snapshot;
  if (!snap || !safeUrl(snap.repo)) return null;
  const base = snap.repo.replace(/\.git$/, "").replace(/\/+$/, "");
  const ref = snap.commit || snap.branch;
  if (!ref) return null;
  const path = record.path.split("/").map(encodeURIComponent).join("/");
  return `${base}/blob/${encodeURIComponent(ref)}/${path}#L${record.line}`;
}

async function getJson(path) {
  const response = await fetch(path, { credentials: "same-origin", headers: { accept: "application/json" } });
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (!response.ok) {
    const message = body && body.error ? body.error : `${path}: HTTP ${response.status}`;
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return body;
}

function bars(list, counts) {
  list.replaceChildren();
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  const top = entries.length ? entries[0][1] : 1;
  for (const [name, count] of entries) {
    const bar = el("span", { class: "bar" });
    bar.style.width = `${Math.max(1, (100 * count) / top)}%`;
    list.append(el("li", { "data-name": name }, el("span", { class: "name", title: name }, name),
      el("span", {}, bar), el("span", { class: "count" }, String(count))));
  }
  if (!entries.length) list.append(el("li", {}, "none"));
}

function options(select, values) {
  const keep = select.value;
  select.replaceChildren(el("option", { value: "" }, "all"));
  for (const value of values) select.append(el("option", { value }, value));
  select.value = values.includes(keep) ? keep : "";
}

function drawTrend(days) {
  const box = document.getElementById("trend");
  box.replaceChildren();
  if (!days.length) {
    box.append(el("p", { class: "muted-text" }, "No history yet: store daily snapshots with grabber push and serve with --db."));
    return;
  }
  const width = Math.max(400, Math.round(box.clientWidth) || 800), height = 220, left = 44, right = 12, top = 12, bottom = 28;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "Muted tests per day" });
  const totals = days.map((d) => d.total);
  const high = Math.max(1, ...totals);
  const x = (i) => left + (days.length === 1 ? (width - left - right) / 2 : (i * (width - left - right)) / (days.length - 1));
  const y = (v) => top + (height - top - bottom) * (1 - v / high);
  chart.append(svg("line", { class: "axis", x1: left, y1: y(0), x2: width - right, y2: y(0) }));
  for (const v of [0, Math.round(high / 2), high]) {
    const label = svg("text", { class: "label", x: left - 6, y: y(v) + 4, "text-anchor": "end" });
    label.textContent = String(v);
    chart.append(label, svg("line", { class: "axis", x1: left, y1: y(v), x2: width - right, y2: y(v) }));
  }
  const points = days.map((d, i) => `${x(i).toFixed(1)},${y(d.total).toFixed(1)}`);
  chart.append(svg("polygon", { class: "area", points: `${x(0)},${y(0)} ${points.join(" ")} ${x(days.length - 1)},${y(0)}` }));
  chart.append(svg("polyline", { class: "line", points: points.join(" ") }));
  days.forEach((d, i) => {
    const dot = svg("circle", { class: "point", cx: x(i), cy: y(d.total), r: 3.5, "data-day": d.day, "data-total": d.total });
    const tip = svg("title", {});
    tip.textContent = `${d.day}: ${d.total}`;
    dot.append(tip);
    chart.append(dot);
  });
  const ticks = days.length <= 8 ? days.map((_, i) => i) : [0, Math.floor((days.length - 1) / 2), days.length - 1];
  for (const i of ticks) {
    const anchor = days.length > 1 && i === 0 ? "start" : days.length > 1 && i === days.length - 1 ? "end" : "middle";
    const label = svg("text", { class: "label", x: x(i), y: height - 8, "text-anchor": anchor });
    label.textContent = days[i].day;
    chart.append(label);
  }
  box.append(chart);
}

function filtered() {
  const text = document.getElementById("filter-text").value.trim().toLowerCase();
  const path = document.getElementById("filter-path").value.trim();
  const kind = document.getElementById("filter-kind").value;
  const category = document.getElementById("filter-category").value;
  const rows = state.records.filter((r) =>
    (!kind || r.kind === kind) && (!category || r.category === category) &&
    (!path || r.path.startsWith(path)) &&
    (!text || [r.nodeid, r.reason, r.ticket, r.marker].some((v) => v && v.toLowerCase().includes(text))));
  const { key, dir } = state.sort;
  rows.sort((a, b) => {
    const va = a[key], vb = b[key];
    if (va === vb) return a.nodeid < b.nodeid ? -1 : a.nodeid > b.nodeid ? 1 : 0;
    if (va === null || va === undefined || va === "") return 1;
    if (vb === null || vb === undefined || vb === "") return -1;
    if (key === "path") return dir * (a.path.localeCompare(b.path) || a.line - b.line);
    return dir * (typeof va === "number" ? va - vb : String(va).localeCompare(String(vb)));
  });
  return rows;
}

function row(r) {
  return el("tr", { "data-nodeid": r.nodeid },
    el("td", { class: "nodeid" }, r.nodeid),
    el("td", { class: "path" }, link(`${r.path}:${r.line}`, fileHref(r))),
    el("td", {}, el("span", { class: "kind" }, r.kind)),
    el("td", {}, r.category),
    el("td", { class: "ticket" }, r.ticket ? link(r.ticket, r.ticket_url || ticketHref(r.ticket)) : ""),
    el("td", { class: "since" }, r.since || ""),
    el("td", { class: "reason" }, r.reason || ""));
}

function renderTable() {
  const rows = filtered();
  const body = document.getElementById("rows");
  body.replaceChildren(...rows.slice(0, MAX_ROWS).map(row));
  const more = rows.length > MAX_ROWS ? ` (first ${MAX_ROWS} shown; filter or download the CSV)` : "";
  document.getElementById("shown").textContent = `${rows.length} of ${state.records.length} muted tests${more}`;
  // The CSV link takes the filters the server knows (not the free-text search).
  const params = new URLSearchParams();
  for (const [name, id] of [["kind", "filter-kind"], ["category", "filter-category"], ["path", "filter-path"]]) {
    const value = document.getElementById(id).value.trim();
    if (value) params.set(name, value);
  }
  const query = params.toString();
  document.getElementById("csv").setAttribute("href", "/muted.csv" + (query ? `?${query}` : ""));
  for (const th of document.querySelectorAll("th[data-key]")) {
    const sorted = th.dataset.key === state.sort.key;
    if (sorted) th.setAttribute("aria-sort", state.sort.dir > 0 ? "ascending" : "descending");
    else th.removeAttribute("aria-sort");
  }
}

function renderSnapshot(snap) {
  state.snapshot = snap;
  state.records = snap.muted;
  const where = snap.repo + (snap.branch ? ` @ ${snap.branch}` : "");
  const commit = snap.commit ? ` · ${snap.commit.slice(0, 12)}` : "";
  document.getElementById("source").textContent = `${where}${commit} · scanned ${snap.scanned_at}`;
  const c = snap.counts;
  document.getElementById("total").textContent = String(c.total);
  document.getElementById("total-detail").textContent =
    `${c.tests} tests in ${c.files} files` + (c.errors ? ` · ${c.errors} files could not be scanned` : "");
  bars(document.getElementById("by-kind"), c.by_kind);
  bars(document.getElementById("by-category"), c.by_category);
  options(document.getElementById("filter-kind"), Object.keys(c.by_kind));
  options(document.getElementById("filter-category"), Object.keys(c.by_category));
  renderTable();
}

function notice(text) {
  const box = document.getElementById("notice");
  box.textContent = text || "";
  box.hidden = !text;
}

// Data is fetched again every minute; the server answers 304 while nothing changed.
const RELOAD_MS = 60000;

async function load() {
  let retry = RELOAD_MS;
  try {
    state.info = await getJson("/api/info");
    const [snap, trend, health] = await Promise.all([
      getJson("/api/snapshot"), getJson("/api/trend"), getJson("/healthz").catch(() => null)]);
    const old = state.snapshot;
    if (!old || old.scanned_at !== snap.scanned_at || old.commit !== snap.commit) {
      renderSnapshot(snap);
      drawTrend(trend.days);
    }
    const badge = document.getElementById("health");
    if (health) {
      badge.hidden = false;
      badge.textContent = health.status === "stale" ? "stale: last refresh failed" : "up to date";
      badge.className = health.status === "stale" ? "badge stale" : "badge";
      badge.title = health.last_error || "";
    }
    notice("");
    document.body.dataset.loaded = "true";
  } catch (error) {
    notice(error.message);
    if (error.status === 503) retry = 5000;
  }
  setTimeout(load, retry);
}

function setup() {
  for (const id of ["filter-text", "filter-path", "filter-kind", "filter-category"]) {
    document.getElementById(id).addEventListener("input", renderTable);
    document.getElementById(id).addEventListener("change", renderTable);
  }
  document.getElementById("filters").addEventListener("submit", (e) => e.preventDefault());
  for (const th of document.querySelectorAll("th[data-key]")) {
    th.addEventListener("click", () => {
      const key = th.dataset.key;
      state.sort = { key, dir: state.sort.key === key ? -state.sort.dir : 1 };
      renderTable();
    });
  }
  load();
}

document.addEventListener("DOMContentLoaded", setup);
