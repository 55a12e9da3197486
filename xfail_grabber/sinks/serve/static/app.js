// The dashboard. Everything from the scanned code reaches the page through textContent or
// validated http(s) hrefs only, never as HTML.
"use strict";

const MAX_ROWS = 1000;
const SVG = "http://www.w3.org/2000/svg";
const state = {
  records: [], sort: { key: "nodeid", dir: 1 }, snapshot: null, info: {},
  trend: [], split: "total", day: null, target: null, targets: [],
  latestKey: null, updates: 0, pollMs: 10000,
};

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

// path#Lline on the repository's web host (an https REPOSITORY), or null.
function sourceHref(file, line) {
  const snap = state.snapshot;
  if (!snap || !safeUrl(snap.repo)) return null;
  const base = snap.repo.replace(/\.git$/, "").replace(/\/+$/, "");
  const ref = snap.commit || snap.branch;
  if (!ref) return null;
  const path = file.split("/").map(encodeURIComponent).join("/");
  return `${base}/blob/${encodeURIComponent(ref)}/${path}#L${line}`;
}

// The test's def: line is in def_path when a test method is inherited from a base class in
// another file, else in path. A mark inherited from a base class in another file
// (mark_path) gets its own link, since path:mark_line would point at the wrong file.
function whereCell(r) {
  const file = r.def_path || r.path;
  const cell = el("td", { class: "path" }, link(`${file}:${r.line}`, sourceHref(file, r.line)));
  if (r.mark_path) {
    cell.append(el("span", { class: "mark-path" }, "mark: ",
      link(`${r.mark_path}:${r.mark_line}`, sourceHref(r.mark_path, r.mark_line))));
  }
  return cell;
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

const PALETTE = ["#2f6fdb", "#d9822b", "#1e9e6a", "#c23b5a", "#7a5cc7", "#2a9cb0", "#8c8c1f", "#6b7280"];

// The series of the chosen split: [[name, [value per day]]], largest first.
function series(days, split) {
  if (split === "total") return [["total", days.map((d) => d.total)]];
  const field = split === "kind" ? "by_kind" : "by_category";
  const names = new Set();
  for (const d of days) for (const name of Object.keys(d[field] || {})) names.add(name);
  const all = [...names].map((name) => [name, days.map((d) => (d[field] || {})[name] || 0)]);
  return all.sort((a, b) => b[1].reduce((x, y) => x + y, 0) - a[1].reduce((x, y) => x + y, 0));
}

function drawTrend(days) {
  state.trend = days;
  const box = document.getElementById("trend");
  const legend = document.getElementById("trend-legend");
  box.replaceChildren();
  legend.replaceChildren();
  fillCompare(days);
  if (!days.length) {
    box.append(el("p", { class: "muted-text" }, "No history yet: store daily snapshots with grabber push and serve with --db."));
    return;
  }
  const width = Math.max(400, Math.round(box.clientWidth) || 800), height = 220, left = 44, right = 12, top = 12, bottom = 28;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "Muted tests per day" });
  const high = Math.max(1, ...days.map((d) => d.total));
  const step = days.length === 1 ? width - left - right : (width - left - right) / (days.length - 1);
  const x = (i) => left + (days.length === 1 ? (width - left - right) / 2 : i * step);
  const y = (v) => top + (height - top - bottom) * (1 - v / high);
  chart.append(svg("line", { class: "axis", x1: left, y1: y(0), x2: width - right, y2: y(0) }));
  for (const v of [0, Math.round(high / 2), high]) {
    const label = svg("text", { class: "label", x: left - 6, y: y(v) + 4, "text-anchor": "end" });
    label.textContent = String(v);
    chart.append(label, svg("line", { class: "axis", x1: left, y1: y(v), x2: width - right, y2: y(v) }));
  }
  const stacks = series(days, state.split);
  const base = days.map(() => 0);
  stacks.forEach(([name, values], k) => {
    const lower = base.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).reverse();
    values.forEach((v, i) => { base[i] += v; });
    const upper = base.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`);
    const color = PALETTE[k % PALETTE.length];
    const area = svg("polygon", { class: state.split === "total" ? "area" : "area stacked", points: [...upper, ...lower].join(" "), "data-series": name });
    if (state.split !== "total") area.style.fill = color;
    chart.append(area, svg("polyline", { class: "line", points: upper.join(" "), "data-series": name, style: `stroke: ${color}` }));
    if (state.split !== "total") {
      const swatch = el("span", { class: "swatch" });
      swatch.style.background = color;
      legend.append(el("li", { "data-name": name }, swatch, name));
    }
  });
  days.forEach((d, i) => {
    // A column per day, the whole height: a click drills into that day.
    const hit = svg("rect", { class: "day-hit", x: x(i) - step / 2, y: 0, width: Math.max(step, 8), height, "data-day": d.day });
    const tip = svg("title", {});
    tip.textContent = `${d.day}: ${d.total} muted (click to see them)`;
    hit.append(tip);
    hit.addEventListener("click", () => drill(d.day));
    const selected = d.day === state.day ? " selected" : "";
    const dot = svg("circle", { class: "point" + selected, cx: x(i), cy: y(d.total), r: 3.5, "data-day": d.day, "data-total": d.total });
    chart.append(hit, dot);
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
  const owner = document.getElementById("filter-owner").value;
  const status = document.getElementById("filter-status").value;
  const rows = state.records.filter((r) =>
    (!kind || r.kind === kind) && (!category || r.category === category) &&
    (!owner || (r.owners || []).includes(owner)) && (!status || r.ticket_status === status) &&
    (!path || r.path.startsWith(path)) &&
    (!text || [r.nodeid, r.reason, r.ticket, r.marker].some((v) => v && v.toLowerCase().includes(text))));
  const { key, dir } = state.sort;
  rows.sort((a, b) => {
    // Unless another column is chosen, mutes whose ticket is closed come first.
    if (key === "nodeid" && Boolean(a.stale) !== Boolean(b.stale)) return a.stale ? -1 : 1;
    const va = a[key], vb = b[key];
    if (va === vb) return a.nodeid < b.nodeid ? -1 : a.nodeid > b.nodeid ? 1 : 0;
    if (va === null || va === undefined || va === "") return 1;
    if (vb === null || vb === undefined || vb === "") return -1;
    if (key === "path") return dir * (a.path.localeCompare(b.path) || a.line - b.line);
    return dir * (typeof va === "number" ? va - vb : String(va).localeCompare(String(vb)));
  });
  return rows;
}

// A long text is shown clipped, with a button for the rest: laying out one unbroken
// 300 KB reason in a table cell froze the page for minutes.
const CLIP = 300;

function clipped(text) {
  if (!text || text.length <= CLIP) return text || "";
  const box = el("span", { class: "clipped" }, text.slice(0, CLIP) + "…");
  const more = el("button", { type: "button", class: "more" }, `show all ${text.length.toLocaleString("en")} characters`);
  more.addEventListener("click", () => box.replaceWith(el("div", { class: "full" }, text)));
  box.append(" ", more);
  return box;
}

function row(r) {
  return el("tr", { "data-nodeid": r.nodeid },
    el("td", { class: "nodeid" }, clipped(r.nodeid)),
    whereCell(r),
    el("td", {}, el("span", { class: "kind" }, r.kind)),
    el("td", {}, r.category),
    el("td", { class: "ticket" }, r.ticket ? link(r.ticket, r.ticket_url || ticketHref(r.ticket)) : ""),
    el("td", { class: "since" }, r.since || ""),
    el("td", { class: "reason" }, clipped(r.reason)),
    el("td", { class: "owners" }, (r.owners || []).join(" ")),
    el("td", { class: "ticket-status" }, ticketStatus(r)));
}

// The ticket's status in its tracker (--tickets), with a badge when the mute outlived it.
function ticketStatus(r) {
  if (!r.ticket_status) return "";
  const title = r.ticket_title ? ` · ${r.ticket_title}` : "";
  if (r.stale) return el("span", { class: "badge stale", title: `ticket closed${title}` }, "stale: ticket closed");
  return el("span", { title: title.slice(3) }, r.ticket_status);
}

function renderTable() {
  const rows = filtered();
  const body = document.getElementById("rows");
  body.replaceChildren(...rows.slice(0, MAX_ROWS).map(row));
  const more = rows.length > MAX_ROWS ? ` (first ${MAX_ROWS} shown; filter or download the CSV)` : "";
  document.getElementById("shown").textContent = `${rows.length} of ${state.records.length} muted tests${more}`;
  // The CSV link takes the filters the server knows (not the free-text search).
  const params = new URLSearchParams();
  for (const [name, id] of [["kind", "filter-kind"], ["category", "filter-category"], ["path", "filter-path"], ["owner", "filter-owner"], ["ticket_status", "filter-status"]]) {
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

// add_marker/applymarker calls in hooks and fixtures: the tests they mute are not counted.
function renderDynamic(sites) {
  const n = sites.length;
  document.getElementById("dynamic").hidden = !n;
  document.getElementById("dynamic-summary").textContent =
    `${n} dynamic mute site${n === 1 ? "" : "s"}: hooks may mute more tests at run time`;
  document.getElementById("dynamic-list").replaceChildren(...sites.map((d) =>
    el("li", { "data-site": `${d.path}:${d.line}` }, link(`${d.path}:${d.line}`, sourceHref(d.path, d.line)),
      " ", el("span", { class: "kind" }, d.marker), " in ", d.hook)));
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
  const owners = [...new Set(snap.muted.flatMap((r) => r.owners || []))].sort();
  options(document.getElementById("filter-owner"), owners);
  document.getElementById("filter-owner").closest("label").hidden = !owners.length;
  const statuses = [...new Set(snap.muted.map((r) => r.ticket_status).filter(Boolean))].sort();
  options(document.getElementById("filter-status"), statuses);
  document.getElementById("filter-status").closest("label").hidden = !statuses.length;
  const stale = snap.muted.filter((r) => r.stale).length;
  document.getElementById("stale-count").textContent = stale ? `${stale} stale (ticket closed)` : "";
  renderDynamic(snap.dynamic || []);
  renderTable();
}

function notice(text) {
  const box = document.getElementById("notice");
  box.textContent = text || "";
  box.hidden = !text;
}

// The repository and branch picked (null: the one the server scans) as query parameters.
function where(extra) {
  const params = new URLSearchParams(extra || {});
  if (state.target) {
    params.set("repo", state.target.repo);
    if (state.target.branch) params.set("branch", state.target.branch);
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

async function loadTargets() {
  const { targets } = await getJson("/api/targets");
  state.targets = targets;
  const select = document.getElementById("target");
  select.replaceChildren(...targets.map((t, i) =>
    el("option", { value: String(i) }, t.repo + (t.branch ? ` @ ${t.branch}` : ""))));
  const current = targets.findIndex((t) => t.current);
  select.value = String(state.target ? targets.findIndex((t) => t.repo === state.target.repo && t.branch === state.target.branch) : current);
  document.getElementById("target-box").hidden = targets.length < 2;
}

// The latest snapshot and trend of the picked repository and branch.
async function showLatest() {
  const [snap, trend] = await Promise.all([
    getJson(state.target ? `/api/day${where()}` : "/api/snapshot"), getJson(`/api/trend${where()}`)]);
  state.day = null;
  document.getElementById("viewing").hidden = true;
  document.getElementById("compare").hidden = true;
  renderSnapshot(snap);
  drawTrend(trend.days);
}

// One stored day: its muted tests in the table, and what changed since the day before.
async function drill(day) {
  try {
    const snap = await getJson(`/api/day${where({ day })}`);
    state.day = day;
    renderSnapshot(snap);
    drawTrend(state.trend);
    document.getElementById("viewing-day").textContent = day;
    document.getElementById("viewing").hidden = false;
    const index = state.trend.findIndex((d) => d.day === day);
    if (index > 0) await compareDays(state.trend[index - 1].day, day);
    else document.getElementById("compare").hidden = true;
    notice("");
  } catch (error) {
    notice(error.message);
  }
}

function fillCompare(days) {
  const from = document.getElementById("compare-from"), to = document.getElementById("compare-to");
  const keep = [from.value, to.value];
  for (const select of [from, to]) select.replaceChildren(...days.map((d) => el("option", { value: d.day }, `${d.day} (${d.total})`)));
  const names = days.map((d) => d.day);
  from.value = names.includes(keep[0]) ? keep[0] : names[Math.max(0, names.length - 2)] || "";
  to.value = names.includes(keep[1]) ? keep[1] : names[names.length - 1] || "";
  document.getElementById("compare-form").hidden = days.length < 2;
}

async function compareDays(from, to) {
  const result = await getJson(`/api/compare${where({ from, to })}`);
  const c = result.counts;
  document.getElementById("compare-title").textContent =
    `${result.from.day} → ${result.to.day}: ${result.from.total} → ${result.to.total} muted · ` +
    `+${c.added} added, −${c.removed} removed, ${c.changed} changed`;
  const item = (r, extra) => el("li", { "data-nodeid": r.nodeid }, el("code", {}, r.nodeid), " ",
    el("span", { class: "kind" }, r.kind || ""), extra ? ` ${extra}` : "", r.reason ? ` · ${r.reason}` : "");
  document.getElementById("added").replaceChildren(...result.added.map((r) => item(r)));
  document.getElementById("removed").replaceChildren(...result.removed.map((r) => item(r)));
  document.getElementById("changed").replaceChildren(...result.changed.map((ch) =>
    item({ ...ch.after, nodeid: ch.nodeid }, `(${ch.fields.join(", ")} changed)`)));
  for (const id of ["added", "removed", "changed"]) {
    document.getElementById(id).closest("div").hidden = !result[id].length;
  }
  document.getElementById("compare").hidden = false;
}

function showHealth(health) {
  const badge = document.getElementById("health");
  if (!health) return;
  badge.hidden = false;
  badge.textContent = health.status === "stale" ? "stale: last refresh failed" : "up to date";
  badge.className = health.status === "stale" ? "badge stale" : "badge";
  badge.title = health.last_error || "";
}

// A new snapshot is noticed by polling /healthz (a few hundred bytes); only then is the
// snapshot fetched again, so an open page costs the server next to nothing.
async function poll() {
  let next = state.pollMs;
  try {
    const health = await fetch("/healthz", { credentials: "same-origin", cache: "no-store" }).then((r) => r.json());
    showHealth(health);
    const snap = health.snapshot;
    const key = snap ? `${snap.scanned_at} ${snap.commit}` : null;
    if (key && key !== state.latestKey) {
      const first = state.latestKey === null;
      state.latestKey = key;
      if (first) {
        await loadTargets();
        await showLatest();
        document.body.dataset.loaded = "true";
      } else if (!state.day && !state.target) {
        await showLatest();
      } else {
        drawTrend((await getJson(`/api/trend${where()}`)).days);
      }
      if (!first) {
        state.updates += 1;
        document.body.dataset.updates = String(state.updates);
        document.getElementById("updated").textContent = `new snapshot ${snap.scanned_at}`;
      }
      notice("");
    } else if (!snap) {
      const body = await getJson("/api/snapshot").catch((e) => e);
      notice(body instanceof Error ? body.message : "");
      next = 5000;
    }
  } catch (error) {
    notice(error.message);
    next = 5000;
  }
  setTimeout(poll, next);
}

async function start() {
  try {
    state.info = await getJson("/api/info");
    state.pollMs = 1000 * (state.info.poll_seconds || 10);
  } catch (error) {
    notice(error.message);
    setTimeout(start, 5000);
    return;
  }
  poll();
}

function setup() {
  for (const id of ["filter-text", "filter-path", "filter-kind", "filter-category", "filter-owner", "filter-status"]) {
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
  document.getElementById("split").addEventListener("change", (e) => {
    state.split = e.target.value;
    drawTrend(state.trend);
  });
  document.getElementById("target").addEventListener("change", (e) => {
    const picked = state.targets[Number(e.target.value)];
    state.target = picked && !picked.current ? { repo: picked.repo, branch: picked.branch } : null;
    showLatest().catch((error) => notice(error.message));
  });
  document.getElementById("back").addEventListener("click", () => showLatest().catch((error) => notice(error.message)));
  document.getElementById("compare-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const from = document.getElementById("compare-from").value, to = document.getElementById("compare-to").value;
    compareDays(from, to).catch((error) => notice(error.message));
  });
  start();
}

document.addEventListener("DOMContentLoaded", setup);
